// Stand-in for ankerl::unordered_dense (https://github.com/martinus/unordered_dense),
// which Debian does not package and which cannot be downloaded offline.
// The worker only uses map<K, V[, Hash]>, set<K[, Hash]> and hash<T> with the
// common member functions, so aliases of the standard containers suffice.
// Differences that do not matter to the worker: std containers are slower
// and iterate in unspecified (not insertion) order; their iterators stay valid
// on more operations, never fewer.
#ifndef PARLEY_ANKERL_UNORDERED_DENSE_STANDIN_H
#define PARLEY_ANKERL_UNORDERED_DENSE_STANDIN_H

#include <functional>
#include <unordered_map>
#include <unordered_set>

namespace ankerl::unordered_dense
{
	// Callable like the original: hash<T>{}(value) -> size_t.
	template<class T>
	struct hash : std::hash<T>
	{
	};

	template<class Key, class T, class Hash = hash<Key>, class KeyEqual = std::equal_to<Key>>
	using map = std::unordered_map<Key, T, Hash, KeyEqual>;

	template<class Key, class Hash = hash<Key>, class KeyEqual = std::equal_to<Key>>
	using set = std::unordered_set<Key, Hash, KeyEqual>;
} // namespace ankerl::unordered_dense

#endif
