// The Dockerfile, run step by step without Docker (no engine here or in CI). The Dockerfile is
// parsed, so this follows it when it changes: the COPY lines copy (honouring .dockerignore) into a
// temp dir standing for the build stage's `/`, its RUN lines run there, the runtime stage's
// COPY --from lines assemble a second temp dir, and the CMD starts there as a non-root user until
// the HEALTHCHECK command passes. What this cannot see: the base image itself and apt-get.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePortRange } from '../helpers/ports.ts';
import { waitFor } from '../helpers/wait.ts';
import {
  copyInto,
  dockerignore,
  execForm,
  parseCopy,
  parseDockerfile,
  parseEnv,
  parseExpose,
  parseHealthcheck,
  parseArg,
  parseLabel,
  type Instruction,
  type Stage,
} from './dockerfile.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const stages = parseDockerfile(fs.readFileSync(path.join(repo, 'Dockerfile'), 'utf8'));
const ignored = dockerignore(fs.readFileSync(path.join(repo, '.dockerignore'), 'utf8'));
const buildStage = stages[0]!;
const runtimeStage = stages.at(-1)!;
const packageJson = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as {
  version: string;
  license: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

const all = (stage: Stage, keyword: string): Instruction[] => stage.instructions.filter((i) => i.keyword === keyword);
const last = (stage: Stage, keyword: string): Instruction | undefined => all(stage, keyword).at(-1);
const stageEnv = (stage: Stage): Record<string, string> => Object.assign({}, ...all(stage, 'ENV').map((i) => parseEnv(i.args)));

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-container-'));
fs.chmodSync(tmp, 0o755); // the non-root user must reach the runtime tree and tools below
const stepsLog = path.join(tmp, 'steps.log');
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Environment for the build's RUN steps: this machine's, minus what `npm run` injects. */
function hostEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    // npm_config_local_prefix & co. would point a nested npm at this repository.
    if (key.startsWith('npm_') || key === 'INIT_CWD' || key === 'NODE_TEST_CONTEXT') delete env[key];
  }
  env.PATH = `${path.dirname(process.execPath)}${path.delimiter}${env.PATH ?? ''}`;
  return env;
}

/** The locally built worker: the image downloads mediasoup's prebuilt one, unreachable here. */
function localWorkerBin(): string {
  const candidates = [
    process.env.MEDIASOUP_WORKER_BIN,
    execFileSync('bash', [path.join(repo, 'scripts/mediasoup-worker/build.sh'), '--print-path'], { encoding: 'utf8' }).trim(),
  ];
  const found = candidates.find((file) => file && fs.existsSync(file));
  assert.ok(found, `no mediasoup-worker binary at ${candidates.filter(Boolean).join(' or ')}: run \`npm run worker:build\``);
  return found;
}

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  ms: number;
}

/** Runs a command to its end; one that is still running after `timeoutMs` is killed (its whole group). */
function run(argv: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Result> {
  const { timeoutMs = 10 * 60_000, ...spawnOptions } = options;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { ...spawnOptions, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      output += `\n[killed: still running after ${timeoutMs} ms]`;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output, ms: Date.now() - started });
    });
  });
}

// --- Non-root: the image runs as `node`; here nobody (when we are root) or ourselves. -------------
const asRoot = process.getuid?.() === 0;
const nobody = asRoot
  ? { uid: Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' })) }
  : undefined;
const asUser = (argv: string[]): string[] =>
  nobody ? ['setpriv', `--reuid=${nobody.uid}`, `--regid=${nobody.gid}`, '--clear-groups', ...argv] : argv;

/** A directory with an apt-get that fails loudly: no step may install packages on this machine. */
function aptTrap(): string {
  const dir = path.join(tmp, 'apt-trap');
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'apt-get'), '#!/bin/sh\necho "apt-get $* called: the toolchain fallback ran although the worker was usable" >&2\nexit 97\n', { mode: 0o755 });
  }
  return dir;
}

// --- Executing stages -----------------------------------------------------------------------------
interface StageState {
  rootfs: string;
  workdir: string;
  env: Record<string, string>;
  user: string | undefined;
  ran: string[];
  skipped: string[];
}
const states = new Map<string, StageState>();

async function execute(stage: Stage, index: number): Promise<StageState> {
  const state: StageState = { rootfs: path.join(tmp, `stage-${stage.name ?? index}`), workdir: '/', env: {}, user: undefined, ran: [], skipped: [] };
  fs.mkdirSync(state.rootfs);
  for (const instruction of stage.instructions) {
    const { keyword, args, line } = instruction;
    if (keyword === 'WORKDIR') {
      state.workdir = path.posix.resolve(state.workdir, args);
      fs.mkdirSync(path.join(state.rootfs, state.workdir), { recursive: true });
    } else if (keyword === 'ENV') {
      Object.assign(state.env, parseEnv(args));
    } else if (keyword === 'USER') {
      state.user = args;
    } else if (keyword === 'COPY') {
      const spec = parseCopy(args);
      if (spec.from === undefined) {
        copyInto(spec, { sourceRoot: repo, rootfs: state.rootfs, workdir: state.workdir, excluded: ignored });
      } else {
        const source = states.get(spec.from);
        assert.ok(source, `line ${line}: COPY --from=${spec.from}: no such stage run before`);
        copyInto(spec, { sourceRoot: source.rootfs, rootfs: state.rootfs, workdir: state.workdir });
      }
    } else if (keyword === 'RUN') {
      // A step that is apt-get alone installs into the base image: it would change this machine,
      // needs root, and proves nothing about our steps. apt-get inside a step (the toolchain for
      // mediasoup's from-source fallback) must not run here: MEDIASOUP_WORKER_BIN below stands for a
      // usable prebuilt worker, and an apt-get on PATH that fails says so if it is called anyway.
      if (/^\s*(apt-get|apt)\b/.test(args)) {
        state.skipped.push(args);
        continue;
      }
      const argv = execForm(args) ?? ['/bin/sh', '-c', args];
      const env: NodeJS.ProcessEnv = { ...hostEnv(), ...state.env, MEDIASOUP_WORKER_BIN: localWorkerBin() };
      env.PATH = `${aptTrap()}${path.delimiter}${env.PATH}`;
      const result = await run(argv, { cwd: path.join(state.rootfs, state.workdir), env });
      fs.appendFileSync(stepsLog, `\n### line ${line}: RUN ${args} (${result.ms} ms, exit ${result.code})\n${result.output}`);
      assert.equal(result.code, 0, `line ${line}: RUN ${args} failed:\n${result.output.slice(-4000)}`);
      state.ran.push(args);
    }
    // FROM, EXPOSE, HEALTHCHECK, CMD, LABEL: metadata, checked by the tests below.
  }
  states.set(stage.name ?? String(index), state);
  states.set(String(index), state);
  return state;
}

/** Container paths of a stage on this machine. */
const host = (state: StageState, containerPath: string): string => path.join(state.rootfs, path.posix.resolve(state.workdir, containerPath));

describe('Dockerfile, run step by step outside Docker', () => {
  test('two stages on node:24-bookworm-slim; runtime: NODE_ENV=production, user node, CMD node src/main.ts', () => {
    assert.equal(stages.length, 2, 'a build stage and a runtime stage');
    for (const stage of stages) assert.equal(stage.base, 'node:24-bookworm-slim');
    assert.ok(buildStage.name, 'the build stage is named, for COPY --from');
    const apt = all(buildStage, 'RUN').find((i) => /\bapt-get\b/.test(i.args));
    assert.ok(apt, 'the build stage can install the tools mediasoup builds its worker from source with');
    for (const pkg of ['python3', 'python3-pip', 'make', 'g++']) assert.match(apt.args, new RegExp(`\\s${pkg.replace(/\+/g, '\\+')}(\\s|$)`), pkg);
    assert.ok(!all(buildStage, 'RUN').some((i) => /^\s*apt-get\b/.test(i.args)), 'no unconditional apt-get step: the toolchain is only for when the prebuilt worker cannot be used');
    assert.match(apt.args, /\bnpm ci\b/, 'the toolchain is installed by the npm ci step, on its failure');
    // The runtime stage installs coturn (the TURN relay Parley starts with TURN_SECRET) and nothing else.
    const runtimeApt = all(runtimeStage, 'RUN').filter((i) => /\bapt-get\b/.test(i.args));
    assert.equal(runtimeApt.length, 1, 'one package step in the runtime stage');
    const installed = /apt-get install\s+(?:-\S+\s+)*([^&;]+)/.exec(runtimeApt[0]!.args)?.[1]?.trim().split(/\s+/);
    assert.deepEqual(installed, ['coturn'], 'no build tools in the runtime stage: coturn only');
    assert.match(runtimeApt[0]!.args, /--no-install-recommends/);
    assert.match(runtimeApt[0]!.args, /rm -rf \/var\/lib\/apt\/lists/);

    assert.equal(stageEnv(runtimeStage).NODE_ENV, 'production');
    assert.equal(last(runtimeStage, 'USER')?.args, 'node', 'runs as the image\'s non-root node user');
    assert.deepEqual(execForm(last(runtimeStage, 'CMD')?.args ?? ''), ['node', 'src/main.ts']);
    assert.ok(last(runtimeStage, 'HEALTHCHECK'), 'has a HEALTHCHECK');
    for (const copy of all(runtimeStage, 'COPY')) assert.equal(parseCopy(copy.args).from, buildStage.name, `runtime takes everything from the build: ${copy.args}`);

    // Cache-friendly: the dependency install comes before any source is copied.
    const npmCi = buildStage.instructions.findIndex((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));
    assert.ok(npmCi >= 0, 'the build stage runs npm ci');
    const copiedBefore = buildStage.instructions.slice(0, npmCi).filter((i) => i.keyword === 'COPY').flatMap((i) => parseCopy(i.args).sources);
    assert.deepEqual(copiedBefore.sort(), ['package-lock.json', 'package.json'], 'only the package files are copied before npm ci');
  });

  test('EXPOSE covers PORT, the media ports RTC_PORT..RTC_PORT+WORKERS-1 on UDP and TCP, and TURN_PORT', () => {
    const env = stageEnv(runtimeStage);
    const exposed = new Set(all(runtimeStage, 'EXPOSE').flatMap((i) => [...parseExpose(i.args)]));
    const port = Number(env.PORT ?? 3000);
    const rtcPort = Number(env.RTC_PORT ?? 40000);
    assert.ok(env.WORKERS, 'WORKERS is fixed in the image, else the media ports depend on the host\'s CPU count');
    const workers = Number(env.WORKERS);
    const expected = [`${port}/tcp`];
    for (let i = 0; i < workers; i++) expected.push(`${rtcPort + i}/udp`, `${rtcPort + i}/tcp`);
    // The TURN relay's port (used with TURN_SECRET): TCP (and TLS) and UDP.
    assert.ok(env.TURN_PORT, 'TURN_PORT is fixed in the image');
    expected.push(`${env.TURN_PORT}/tcp`, `${env.TURN_PORT}/udp`);
    assert.deepEqual([...exposed].sort(), expected.sort());
  });

  test('OCI labels: title, description, version (= package.json), licence (= package.json), source, revision', () => {
    const args = Object.fromEntries(all(runtimeStage, 'ARG').map((i) => parseArg(i.args)).map(({ name, value }) => [name, value]));
    const labels = Object.assign({}, ...all(runtimeStage, 'LABEL').map((i) => parseLabel(i.args, args))) as Record<string, string>;
    const oci = (key: string) => labels[`org.opencontainers.image.${key}`];
    assert.equal(oci('version'), packageJson.version, 'the image version is the package version');
    assert.equal(oci('licenses'), packageJson.license);
    assert.equal(oci('title'), 'Parley');
    assert.ok(oci('description'));
    for (const key of ['source', 'revision']) assert.ok(`org.opencontainers.image.${key}` in labels, `${key} label (from a --build-arg)`);
    // With build args given, they land in the labels.
    const built = Object.assign({}, ...all(runtimeStage, 'LABEL').map((i) => parseLabel(i.args, { ...args, SOURCE_URL: 'https://git.example.com/parley', REVISION: 'abc123' })));
    assert.equal(built['org.opencontainers.image.source'], 'https://git.example.com/parley');
    assert.equal(built['org.opencontainers.image.revision'], 'abc123');
  });

  test('build stage: the toolchain is installed only when npm ci fails without a worker binary', async () => {
    const step = all(buildStage, 'RUN').find((i) => /\bnpm ci\b/.test(i.args))!;
    const scenario = async (npmFailsFirst: boolean, workerPresent: boolean) => {
      const dir = fs.mkdtempSync(path.join(tmp, 'fallback-'));
      const bin = path.join(dir, 'bin');
      fs.mkdirSync(bin);
      const calls = path.join(dir, 'calls');
      // A fake npm (fails on its first call when asked to) and apt-get; both record their calls.
      fs.writeFileSync(path.join(bin, 'npm'), `#!/bin/sh\necho "npm $*" >> ${calls}\nif [ ${npmFailsFirst ? 1 : 0} = 1 ] && [ ! -e ${dir}/npm-ran ]; then touch ${dir}/npm-ran; exit 1; fi\nexit 0\n`, { mode: 0o755 });
      fs.writeFileSync(path.join(bin, 'apt-get'), `#!/bin/sh\necho "apt-get $*" >> ${calls}\n`, { mode: 0o755 });
      const app = path.join(dir, 'app');
      const workerDir = path.join(app, 'node_modules/mediasoup/worker/out/Release');
      fs.mkdirSync(workerDir, { recursive: true });
      if (workerPresent) fs.writeFileSync(path.join(workerDir, 'mediasoup-worker'), '', { mode: 0o755 });
      const result = await run(['/bin/sh', '-c', step.args], { cwd: app, env: { PATH: `${bin}:/usr/bin:/bin` }, timeoutMs: 30_000 });
      const log = fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n') : [];
      return { code: result.code, npm: log.filter((l) => l.startsWith('npm ')).length, apt: log.filter((l) => l.startsWith('apt-get ')) };
    };
    assert.deepEqual(await scenario(false, false), { code: 0, npm: 1, apt: [] }, 'the prebuilt worker was usable: no toolchain');
    const fallback = await scenario(true, false);
    assert.equal(fallback.code, 0);
    assert.equal(fallback.npm, 2, 'npm ci runs again with the toolchain');
    assert.match(fallback.apt.join('\n'), /apt-get install .*python3-pip.* make g\+\+/);
    assert.deepEqual(await scenario(true, true), { code: 1, npm: 1, apt: [] }, 'npm ci failed for another reason: the build fails, no toolchain');
  });

  test('.dockerignore keeps dependencies, build output, tests and secrets out; every COPY source is in the context', () => {
    for (const file of ['node_modules/esbuild/package.json', 'src/x/node_modules/a.js', 'public/build/home.js', '.git/HEAD', 'test-results/a.png',
      'test/server/http.test.ts', '.env', 'npm-debug.log', 'certs/privkey.pem', 'scripts/mediasoup-worker/build.sh']) {
      assert.ok(ignored(file), `${file} is excluded`);
    }
    for (const file of ['package.json', 'package-lock.json', 'build.mjs', 'tsconfig.json', 'src/main.ts', 'src/client/home.ts', 'views/home.eta',
      'public/css/app.css', 'public/favicon.svg', 'scripts/healthcheck.mjs']) {
      assert.ok(!ignored(file), `${file} is in the context`);
    }
    for (const copy of all(buildStage, 'COPY')) {
      for (const source of parseCopy(copy.args).sources) {
        assert.ok(fs.existsSync(path.join(repo, source)) && !ignored(source), `line ${copy.line}: ${source} is in the build context`);
      }
    }
  });

  test('build stage: npm ci, node build.mjs, npm prune --omit=dev', { timeout: 10 * 60_000 }, async () => {
    const state = await execute(buildStage, 0);
    assert.ok(state.ran.some((args) => /\bnpm ci\b/.test(args)), 'ran npm ci');
    assert.ok(state.ran.some((args) => /\bnode build\.mjs\b/.test(args)), 'ran node build.mjs');
    assert.ok(state.ran.some((args) => /\bnpm prune\b.*--omit=dev/.test(args)), 'ran npm prune --omit=dev');
    // build.mjs names bundles by content hash and lists them in its manifest.
    const manifest = JSON.parse(fs.readFileSync(host(state, 'public/build/manifest.json'), 'utf8')) as Record<string, string>;
    for (const file of ['home.js', 'room.js', 'htmx.min.js']) {
      assert.match(manifest[file] ?? '', /^\/build\/[\w.-]+-[A-Z0-9]{8}\.js$/, `the manifest names a hashed bundle for ${file}`);
      assert.ok(fs.statSync(host(state, `public${manifest[file]}`)).size > 0, `the bundle for ${file} was built`);
    }
  });

  test('runtime stage: production dependencies only', { timeout: 5 * 60_000 }, async () => {
    assert.ok(states.has(buildStage.name!), 'the build stage ran');
    const state = await execute(runtimeStage, stages.length - 1);
    const modules = host(state, 'node_modules');
    const has = (name: string) => fs.existsSync(path.join(modules, name, 'package.json'));
    // The lockfile marks every package that only devDependencies need ("dev": true). A
    // devDependency that a dependency also needs (@types/node, for socket.io) stays, rightly.
    const lock = JSON.parse(fs.readFileSync(path.join(repo, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.entries(lock.packages).filter(([key, meta]) => key.startsWith('node_modules/') && meta.dev === true);
    const devOnlyDirect = Object.keys(packageJson.devDependencies).filter((name) => lock.packages[`node_modules/${name}`]?.dev === true);
    for (const name of new Set(['esbuild', 'typescript', '@playwright/test', ...devOnlyDirect])) {
      assert.ok(!has(name), `devDependency ${name} is not in the runtime node_modules`);
    }
    for (const name of ['mediasoup', 'socket.io', ...Object.keys(packageJson.dependencies)]) assert.ok(has(name), `${name} is present`);
    const leftovers = devOnly.filter(([key]) => fs.existsSync(path.join(host(state, '.'), key))).map(([key]) => key);
    assert.deepEqual(leftovers, [], 'no dev-only package in the runtime stage');
    for (const file of ['package.json', 'src/main.ts', 'views/home.eta', 'public/build/manifest.json', 'public/css/app.css', 'scripts/healthcheck.mjs']) {
      assert.ok(fs.existsSync(host(state, file)), `${file} is in the runtime stage`);
    }
    for (const absent of ['test', 'package-lock.json', 'build.mjs', 'tsconfig.json']) assert.ok(!fs.existsSync(host(state, absent)), `${absent} is not`);
  });

  test('runtime: the CMD serves as a non-root user with coturn beside it (TURN_SECRET), the HEALTHCHECK passes, SIGTERM exits 0 and ends coturn', { timeout: 2 * 60_000 }, async (t) => {
    const state = states.get(String(stages.length - 1));
    assert.ok(state, 'the runtime stage was assembled');
    assert.notEqual(state.user ?? 'root', 'root');

    // Node and the worker binary where the non-root user can run them (/root is private).
    const tools = path.join(tmp, 'tools');
    fs.mkdirSync(tools, { mode: 0o755 });
    const place = (from: string, name: string) => {
      const to = path.join(tools, name);
      try {
        fs.linkSync(from, to);
      } catch {
        fs.copyFileSync(from, to);
      }
      fs.chmodSync(to, 0o755);
      return to;
    };
    place(process.execPath, 'node');
    const workerBin = place(localWorkerBin(), 'mediasoup-worker');
    const home = path.join(tmp, 'home');
    fs.mkdirSync(home, { mode: 0o755 });
    if (nobody) fs.chownSync(home, nobody.uid, nobody.gid);

    const rtcPort = await freePortRange(1);
    let port = rtcPort;
    while (port === rtcPort) port = await freePortRange(1);
    let turnPort = port;
    while (turnPort === port || turnPort === rtcPort) turnPort = await freePortRange(1);
    // With TURN_SECRET, Parley starts coturn next to itself (CI installs Debian's coturn, as the image does).
    const turnserver = ['/usr/bin/turnserver', '/usr/local/bin/turnserver'].find((file) => fs.existsSync(file));
    assert.ok(turnserver, 'coturn is installed (Debian: apt-get install coturn; .ci/run does), as in the image');
    const env: NodeJS.ProcessEnv = {
      // As in the container: the image's PATH (node first) and a HOME of the user's own.
      PATH: [tools, '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(path.delimiter),
      HOME: home,
      ...state.env,
      PORT: String(port),
      RTC_PORT: String(rtcPort),
      WORKERS: '1',
      // HOST as in the image (unset: every address), so the HEALTHCHECK asks over this machine's
      // network address as it asks over the container's (PARLEY_IN_CONTAINER).
      RTC_LISTEN_IP: '127.0.0.1',
      ANNOUNCED_IP: '127.0.0.1',
      MEDIASOUP_WORKER_BIN: workerBin,
      TURN_SECRET: 'container-test-turn-secret-0123',
      TURN_PORT: String(turnPort),
    };
    const cwd = path.join(state.rootfs, state.workdir);
    const healthcheck = parseHealthcheck(last(runtimeStage, 'HEALTHCHECK')!.args);
    const check = async () => {
      const result = await run(asUser(healthcheck.argv), { cwd, env, timeoutMs: 30_000 });
      assert.ok(result.ms < healthcheck.timeoutMs, `the health check answered within its --timeout (${result.ms} ms)`);
      assert.ok(result.code === 0 || result.code === 1, `the health check exits 0 or 1, got ${result.code}: ${result.output}`);
      return result;
    };

    const before = await check();
    assert.equal(before.code, 1, `unhealthy while nothing listens: ${before.output}`);

    const cmd = execForm(last(runtimeStage, 'CMD')!.args)!;
    const server: ChildProcess = spawn(asUser(cmd)[0]!, asUser(cmd).slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    server.stdout!.on('data', (chunk: Buffer) => (output += chunk));
    server.stderr!.on('data', (chunk: Buffer) => (output += chunk));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => server.on('exit', (code, signal) => resolve({ code, signal })));
    t.after(() => {
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    });
    const alive = () => assert.ok(server.exitCode === null, `the server exited early (${server.exitCode}):\n${output}`);

    try {
      let lastCheck: Result | undefined;
      await waitFor(async () => {
        alive();
        lastCheck = await check();
        return lastCheck.code === 0;
      }, { timeoutMs: 30_000, intervalMs: 250, what: 'the HEALTHCHECK to pass' });
      assert.match(lastCheck!.output, /healthz/);

      // Not a terminal: JSON lines only, and one line that says where to open the call.
      const lines = output.trim().split('\n');
      const entries = lines.map((line) => {
        try {
          return JSON.parse(line) as { msg?: string; url?: string; announcedAddress?: string; reach?: string };
        } catch {
          throw new Error(`a log line that is not JSON: ${line}`);
        }
      });
      const ready = entries.find((entry) => entry.msg?.startsWith('Parley is ready'));
      assert.ok(ready, `a ready line:\n${output}`);
      assert.equal(ready.url, `http://localhost:${port}`);
      assert.equal(ready.announcedAddress, '127.0.0.1');
      assert.equal(ready.reach, 'this machine');
      assert.match(ready.msg!, new RegExp(`open http://localhost:${port} to start a call`));
      assert.match(ready.msg!, /only browsers on this machine get media.*ANNOUNCED_IP/);

      // setpriv execs the command: the child is Parley itself.
      const uid = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[1];
      assert.notEqual(uid, '0', 'Parley runs as a non-root user');
      if (nobody) assert.equal(Number(uid), nobody.uid);

      // coturn runs, as the same non-root user, relaying only to the announced address.
      const coturnLine = entries.find((entry) => entry.msg === 'coturn (TURN relay) listening') as { port?: number; allowedPeers?: string[] } | undefined;
      assert.ok(coturnLine, `coturn started:\n${output}`);
      assert.equal(coturnLine.port, turnPort);
      assert.deepEqual(coturnLine.allowedPeers, ['127.0.0.1']);
      const coturnPids = execFileSync('pgrep', ['-P', String(server.pid), 'turnserver'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
      assert.equal(coturnPids.length, 1, 'one coturn, a child of Parley');
      const coturnUid = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${coturnPids[0]}/status`, 'utf8'))?.[1];
      assert.equal(coturnUid, uid, 'coturn runs as Parley\'s user');
      const turnOpen = () => new Promise<boolean>((resolve) => {
        const socket = net.connect({ host: '127.0.0.1', port: turnPort }, () => (socket.destroy(), resolve(true)));
        socket.once('error', () => resolve(false));
      });
      assert.ok(await turnOpen(), 'TURN_PORT accepts connections');

      const base = `http://127.0.0.1:${port}`;
      await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, { timeoutMs: 15_000, intervalMs: 200, what: '/readyz to be 200' });
      const page = await fetch(`${base}/`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      const html = await page.text();
      assert.match(html, /<html/);
      for (const name of ['htmx.min', 'home']) {
        const script = new RegExp(`/build/${name.replace('.', '\\.')}-[A-Z0-9]{8}\\.js`).exec(html)?.[0] ?? '';
        assert.ok(script, `the home page loads its hashed ${name}.js`);
        const asset = await fetch(`${base}${script}`);
        assert.equal(asset.status, 200, `${script} is served from the image's public/build`);
        assert.ok((await asset.arrayBuffer()).byteLength > 0);
      }
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- server output ---\n${output.slice(-6000)}`, { cause: error });
    }

    server.kill('SIGTERM');
    const result = await Promise.race([exit, new Promise<'timeout'>((resolve) => setTimeout(resolve, 20_000, 'timeout'))]);
    assert.deepEqual(result, { code: 0, signal: null }, `SIGTERM: clean exit 0\n--- server output ---\n${output.slice(-6000)}`);
    // coturn went with it.
    await waitFor(async () => !(await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: turnPort }, () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    })), { timeoutMs: 10_000, intervalMs: 100, what: 'coturn to stop with Parley' });
  });
});

describe('compose.yaml', () => {
  // No YAML parser among the dependencies: Debian's python3-yaml reads it when installed.
  const parsed = (() => {
    try {
      const json = execFileSync('python3', ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', path.join(repo, 'compose.yaml')], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      return JSON.parse(json) as unknown;
    } catch {
      return undefined;
    }
  })();

  test('Parley + Redis wired, ports published as the image exposes them, healthchecks, restart', { skip: parsed === undefined && 'needs python3 with yaml (Debian: python3-yaml)' }, () => {
    type Service = { image?: string; build?: unknown; environment?: Record<string, string | number>; ports?: string[]; healthcheck?: { test?: string[] }; restart?: string; depends_on?: Record<string, { condition?: string }> };
    const services = (parsed as { services: Record<string, Service> }).services;
    const parley = services.parley!;
    const redis = services.redis!;
    assert.ok(parley.build, 'parley builds from this Dockerfile');
    assert.match(redis.image ?? '', /^redis:7-alpine$/);
    const env = Object.fromEntries(Object.entries(parley.environment ?? {}).map(([k, v]) => [k, String(v)]));
    assert.match(env.REDIS_URL ?? '', /^redis:\/\/redis:6379$/);
    assert.match(env.ANNOUNCED_IP ?? '', /^\$\{ANNOUNCED_IP[:?}]/, 'ANNOUNCED_IP comes from the environment');
    assert.equal(parley.depends_on?.redis?.condition, 'service_healthy');
    for (const service of [parley, redis]) {
      assert.ok(service.healthcheck?.test?.length, 'has a healthcheck');
      assert.match(service.restart ?? '', /^(always|unless-stopped|on-failure)/);
    }
    assert.deepEqual(parley.healthcheck!.test, ['CMD', ...parseHealthcheck(last(runtimeStage, 'HEALTHCHECK')!.args).argv]);

    // Published ports: same numbers inside and out, matching the image's EXPOSE for compose's WORKERS.
    const image = stageEnv(runtimeStage);
    const rtcPort = Number(env.RTC_PORT ?? image.RTC_PORT);
    const workers = Number(env.WORKERS ?? image.WORKERS);
    const port = Number(env.PORT ?? image.PORT ?? 3000);
    const published = new Set<string>();
    for (const raw of parley.ports ?? []) {
      // "${TURN_PORT:-3478}:${TURN_PORT:-3478}/tcp": compose's default stands for the variable.
      const entry = raw.replace(/\$\{\w+:-(\d+)\}/g, '$1');
      const match = /^(?:[\d.]+:)?(\d+(?:-\d+)?):(\d+(?:-\d+)?)(\/(?:tcp|udp))?$/.exec(entry);
      assert.ok(match, `port entry ${entry} is HOST:CONTAINER[/proto]`);
      assert.equal(match[1], match[2], `${entry}: same port numbers outside and inside (ICE announces the inside one)`);
      for (const p of parseExpose(`${match[2]}${match[3] ?? ''}`)) published.add(p);
    }
    const expected = [`${port}/tcp`];
    for (let i = 0; i < workers; i++) expected.push(`${rtcPort + i}/udp`, `${rtcPort + i}/tcp`);
    // The TURN relay's port, the same number inside and out (TURN_PORT from .env, 3478 by default).
    const turnPort = /^\$\{TURN_PORT:-(\d+)\}$/.exec(String(env.TURN_PORT ?? ''))?.[1];
    assert.ok(turnPort, 'TURN_PORT comes from the environment, with a default');
    expected.push(`${turnPort}/tcp`, `${turnPort}/udp`);
    assert.deepEqual([...published].sort(), expected.sort());
    // TURN is on with TURN_SECRET from the environment (.env), off while it is blank.
    assert.match(env.TURN_SECRET ?? '', /^\$\{TURN_SECRET:-\}$/);
  });
});
