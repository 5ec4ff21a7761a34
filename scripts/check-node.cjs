#!/usr/bin/env node
// Runs before `npm start`: Parley's sources are TypeScript that Node runs directly (type stripping,
// on by default from Node 22.18), so an older Node fails on the first import with a stack trace
// (ERR_UNKNOWN_FILE_EXTENSION). This says instead, in one sentence, what is needed and where to get
// it, and exits 1.
//
// Deliberately old-fashioned (CommonJS, var, no optional chaining): it must run on any Node a
// person may still have, 10 and up. Keep MINIMUM in step with "engines" in package.json (a test checks).
// PARLEY_NODE_VERSION stands in for process.versions.node, for tests.
'use strict';

var MINIMUM = [22, 18, 0];
var RECOMMENDED = 24;

var actual = process.env.PARLEY_NODE_VERSION || process.versions.node;
var parts = String(actual).replace(/^v/, '').split('.').map(function (part) {
  return parseInt(part, 10) || 0;
});

function atLeast(version, minimum) {
  for (var i = 0; i < minimum.length; i++) {
    var a = version[i] || 0;
    if (a !== minimum[i]) return a > minimum[i];
  }
  return true;
}

// Node 23 got unflagged type stripping only in 23.6.
var ok = parts[0] === 23 ? atLeast(parts, [23, 6, 0]) : atLeast(parts, MINIMUM);

if (!ok) {
  process.stderr.write(
    'Parley needs Node.js ' + MINIMUM[0] + '.' + MINIMUM[1] + ' or newer (' + RECOMMENDED + ' LTS recommended); this is ' +
      String(actual).replace(/^v/, '') + '. Install it from https://nodejs.org or with your package manager (or nvm, fnm, volta).\n',
  );
  process.exit(1);
}
