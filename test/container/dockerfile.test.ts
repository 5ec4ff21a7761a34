// The Dockerfile reader that steps.test.ts relies on.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { copyInto, dockerignore, durationMs, parseArg, parseCopy, parseDockerfile, parseEnv, parseExpose, parseHealthcheck, parseLabel } from './dockerfile.ts';

describe('test/container/dockerfile.ts', () => {
  test('stages, comments, continuations', () => {
    const stages = parseDockerfile(
      [
        '# syntax=docker/dockerfile:1',
        'FROM node:24 AS build',
        'RUN apt-get update \\',
        '  # a comment inside a continuation',
        ' && apt-get install -y g++',
        '',
        'from node:24',
        'COPY --from=build /app/x ./x',
        'CMD ["node", "a.ts"]',
      ].join('\n'),
    );
    assert.equal(stages.length, 2);
    assert.deepEqual([stages[0]!.name, stages[0]!.base, stages[1]!.name], ['build', 'node:24', undefined]);
    assert.equal(stages[0]!.instructions[0]!.args, 'apt-get update  && apt-get install -y g++');
    assert.equal(stages[0]!.instructions[0]!.line, 3);
    assert.deepEqual(stages[1]!.instructions.map((i) => i.keyword), ['COPY', 'CMD']);
  });

  test('refuses what it cannot follow', () => {
    assert.throws(() => parseDockerfile('FROM a\nONBUILD RUN x'), /ONBUILD is not supported/);
    assert.throws(() => parseArg('X=$Y'), /cannot read ARG/);
    assert.throws(() => parseLabel('a="${NOPE}"'), /not an ARG/);
    assert.throws(() => parseDockerfile('RUN true'), /before FROM/);
    assert.throws(() => parseCopy('--chown=node src ./src'), /--chown is not supported/);
    assert.throws(() => parseCopy('*.json ./'), /wildcards/);
    assert.throws(() => parseEnv('PATH=/x:$PATH'), /variable substitution/);
  });

  test('ENV, EXPOSE, HEALTHCHECK, COPY', () => {
    assert.deepEqual(parseArg('REVISION'), { name: 'REVISION', value: '' });
    assert.deepEqual(parseArg('SOURCE_URL="https://x/y"'), { name: 'SOURCE_URL', value: 'https://x/y' });
    assert.deepEqual(parseLabel('a.b="two words" c=d e="${R}" f=$R', { R: 'r1' }), { 'a.b': 'two words', c: 'd', e: 'r1', f: 'r1' });
    assert.deepEqual(parseEnv('A=1 B="two words" C=\'x\''), { A: '1', B: 'two words', C: 'x' });
    assert.deepEqual(parseEnv('NODE_ENV production'), { NODE_ENV: 'production' });
    assert.deepEqual([...parseExpose('3000 40000-40001/udp 5/TCP')], ['3000/tcp', '40000/udp', '40001/udp', '5/tcp']);
    const check = parseHealthcheck('--interval=15s --timeout=1m30s CMD ["node", "h.mjs"]');
    assert.deepEqual(check.argv, ['node', 'h.mjs']);
    assert.equal(check.timeoutMs, 90_000);
    assert.deepEqual(parseHealthcheck('CMD curl -f http://x/ || exit 1').argv, ['/bin/sh', '-c', 'curl -f http://x/ || exit 1']);
    assert.equal(durationMs('500ms'), 500);
    assert.deepEqual(parseCopy('--from=build /app/a ./a'), { from: 'build', sources: ['/app/a'], dest: './a' });
    assert.deepEqual(parseCopy('["a b", "c/"]'), { from: undefined, sources: ['a b'], dest: 'c/' });
  });

  test('.dockerignore: anchored, **, parents, ! exceptions', () => {
    const ignored = dockerignore('# c\nnode_modules\n**/*.log\npublic/build/\ndocs\n!docs/keep.md\n');
    assert.ok(ignored('node_modules/a/b.js'));
    assert.ok(!ignored('src/node_modules/a.js'), 'node_modules without ** is the top-level one only');
    assert.ok(ignored('a/b/c.log') && ignored('c.log'));
    assert.ok(ignored('public/build/x.js') && !ignored('public/css/x.css'));
    assert.ok(ignored('docs/a.md') && !ignored('docs/keep.md'));
  });

  test('copyInto: directory contents, files into a directory, files renamed, ignored paths left out', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-dockerfile-'));
    try {
      const context = path.join(tmp, 'context');
      const rootfs = path.join(tmp, 'rootfs');
      fs.mkdirSync(path.join(context, 'src/node_modules'), { recursive: true });
      fs.writeFileSync(path.join(context, 'src/a.ts'), 'a');
      fs.writeFileSync(path.join(context, 'src/node_modules/x.js'), 'x');
      fs.writeFileSync(path.join(context, 'package.json'), '{}');
      fs.mkdirSync(rootfs);
      const excluded = dockerignore('**/node_modules');
      const opts = { sourceRoot: context, rootfs, workdir: '/app', excluded };
      copyInto(parseCopy('src ./src'), opts);
      copyInto(parseCopy('package.json ./'), opts);
      copyInto(parseCopy('package.json /etc/p.json'), opts);
      assert.equal(fs.readFileSync(path.join(rootfs, 'app/src/a.ts'), 'utf8'), 'a');
      assert.ok(!fs.existsSync(path.join(rootfs, 'app/src/node_modules')));
      assert.ok(fs.existsSync(path.join(rootfs, 'app/package.json')));
      assert.ok(fs.existsSync(path.join(rootfs, 'etc/p.json')));
      assert.throws(() => copyInto(parseCopy('src/node_modules ./nm'), opts), /excluded/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
