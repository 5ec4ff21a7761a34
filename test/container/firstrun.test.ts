// The first run, as a person meets it: an old Node is refused in one sentence (npm start and npm
// install), logs are readable on a terminal and JSON elsewhere, and the ready line says where to go.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLogger, readyLine, resolveLogFormat } from '../../src/log.ts';
import { loadConfig, ConfigError } from '../../src/config.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const checkNode = path.join(repo, 'scripts/check-node.cjs');
const packageJson = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { engines: { node: string }; scripts: Record<string, string> };

function runCheck(node: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(node, [checkNode], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

/** A machine's other Node (Debian's /usr/bin/node), when it is older than Parley needs. */
const systemNode = (() => {
  for (const candidate of ['/usr/bin/node', '/usr/bin/nodejs']) {
    try {
      const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim();
      const [major, minor] = version.slice(1).split('.').map(Number);
      if (major! < 22 || (major === 22 && minor! < 18)) return { path: candidate, version: version.slice(1) };
    } catch {}
  }
  return undefined;
})();

describe('Node version check (npm start, npm install)', () => {
  test('too old: one sentence on stderr, what is needed and how to get it, exit 1', async () => {
    for (const version of ['20.11.1', 'v18.19.0', '22.17.0', '23.5.0', '10.24.1']) {
      const result = await runCheck(process.execPath, { PARLEY_NODE_VERSION: version });
      assert.equal(result.code, 1, version);
      assert.equal(result.stdout, '');
      assert.equal(
        result.stderr,
        `Parley needs Node.js 22.18 or newer (24 LTS recommended); this is ${version.replace(/^v/, '')}. Install it from https://nodejs.org or with your package manager (or nvm, fnm, volta).\n`,
      );
    }
  });

  test('new enough: silent, exit 0', async () => {
    for (const version of ['22.18.0', '22.20.1', '23.6.0', '24.0.0', '25.1.0']) {
      assert.deepEqual(await runCheck(process.execPath, { PARLEY_NODE_VERSION: version }), { code: 0, stdout: '', stderr: '' }, version);
    }
    assert.deepEqual(await runCheck(process.execPath), { code: 0, stdout: '', stderr: '' }, `this Node (${process.version})`);
  });

  test(`a real old Node (${systemNode ? `${systemNode.path} ${systemNode.version}` : 'none here'}) gets the sentence, not a stack trace`, { skip: !systemNode && 'no Node older than 22.18 on this machine' }, async () => {
    const result = await runCheck(systemNode!.path);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`^Parley needs Node\\.js 22\\.18 or newer \\(24 LTS recommended\\); this is ${systemNode!.version.replaceAll('.', '\\.')}\\. Install it from https://nodejs\\.org`));
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });

  test('wired up: npm start checks first; .npmrc makes npm install refuse an old Node; the minimum matches "engines"', () => {
    assert.match(packageJson.scripts.start!, /^node scripts\/check-node\.cjs && /);
    assert.match(fs.readFileSync(path.join(repo, '.npmrc'), 'utf8'), /^engine-strict=true$/m);
    assert.equal(packageJson.engines.node, '>=22.18');
    assert.match(fs.readFileSync(checkNode, 'utf8'), /var MINIMUM = \[22, 18, 0\];/);
  });
});

/** A stream that collects what is written; `isTTY` as a terminal would have it. */
function sink(isTTY: boolean): Writable & { isTTY: boolean; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  }) as Writable & { isTTY: boolean; text: () => string };
  stream.isTTY = isTTY;
  stream.text = () => chunks.join('');
  return stream;
}

describe('logs', () => {
  test('LOG_FORMAT: auto (default), json or pretty; anything else is reported', () => {
    assert.equal(loadConfig({}).logFormat, 'auto');
    assert.equal(loadConfig({ LOG_FORMAT: 'json' }).logFormat, 'json');
    assert.equal(loadConfig({ LOG_FORMAT: 'pretty' }).logFormat, 'pretty');
    assert.throws(() => loadConfig({ LOG_FORMAT: 'text' }), (error: unknown) => error instanceof ConfigError && error.problems.some((p) => p.startsWith('LOG_FORMAT="text" must be one of auto, json, pretty')));
    assert.equal(resolveLogFormat('auto', { isTTY: true }), 'pretty');
    assert.equal(resolveLogFormat('auto', { isTTY: false }), 'json');
    assert.equal(resolveLogFormat('auto', {}), 'json');
    assert.equal(resolveLogFormat('json', { isTTY: true }), 'json');
    assert.equal(resolveLogFormat('pretty', { isTTY: false }), 'pretty');
  });

  test('not a terminal: one JSON object per line', () => {
    const out = sink(false);
    const log = createLogger('info', { destination: out });
    log.info({ url: 'http://localhost:3000' }, 'hello');
    log.child({ room: 'r1' }).warn('careful');
    const lines = out.text().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(lines.length, 2);
    assert.deepEqual([lines[0]!.msg, lines[0]!.url, lines[0]!.level, lines[0]!.app], ['hello', 'http://localhost:3000', 30, 'parley']);
    assert.deepEqual([lines[1]!.msg, lines[1]!.room, lines[1]!.level], ['careful', 'r1', 40]);
  });

  test('a terminal: readable lines (time, level, message, fields below), not JSON', () => {
    const out = sink(true);
    const log = createLogger('info', { destination: out });
    log.info({ url: 'http://localhost:3000' }, 'hello there');
    log.debug('not shown at info');
    const text = out.text().replace(/\x1b\[[0-9;]*m/g, ''); // colours off for matching
    assert.match(text, /^\[\d\d:\d\d:\d\d\] INFO: hello there\n\s+url: "http:\/\/localhost:3000"\n$/);
    assert.throws(() => JSON.parse(text.split('\n')[0]!));
    assert.doesNotMatch(text, /pid|hostname|"app"/, 'noise left out');
    // LOG_FORMAT=json on a terminal: JSON anyway.
    const forced = sink(true);
    createLogger('info', { destination: forced, format: 'json' }).info('x');
    assert.equal((JSON.parse(forced.text()) as { msg: string }).msg, 'x');
  });

  test('the ready line: where to open the call, where media goes, and a hint for a private or loopback address', () => {
    const local = readyLine('http://localhost:3000', '127.0.0.1', '40000-40001');
    assert.equal(local.reach, 'this machine');
    assert.equal(
      local.msg,
      'Parley is ready: open http://localhost:3000 to start a call. Media goes to 127.0.0.1 (ports 40000-40001, UDP and TCP): a loopback address, so only browsers on this machine get media. For anyone else, set ANNOUNCED_IP to the address they reach this server at (its public IP).',
    );
    for (const address of ['192.168.1.20', '10.0.0.5', '172.17.0.2', '100.64.1.1', 'fd12:3456::1']) {
      const line = readyLine('http://localhost:3000', address, '40000-40000');
      assert.equal(line.reach, 'local network', address);
      assert.match(line.msg, /a private address, so only browsers on the same local network get media\. For calls over the internet, set ANNOUNCED_IP/);
    }
    const open = readyLine('https://call.example.com:3000', '203.0.113.7', '40000-40001');
    assert.equal(open.reach, 'internet');
    assert.equal(open.msg, 'Parley is ready: open https://call.example.com:3000 to start a call. Media goes to 203.0.113.7 (ports 40000-40001, UDP and TCP).');
  });
});
