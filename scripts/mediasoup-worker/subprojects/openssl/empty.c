/* Intentionally (almost) empty: the worker link_whole()s a static library from
 * this subproject; the real code comes from the Debian shared library through
 * the subproject's dependency. ISO C wants at least one declaration. */
typedef int parley_standin_empty_translation_unit;
