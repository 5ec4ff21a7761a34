// A small Dockerfile reader for test/container: just enough of the syntax to run the Dockerfile's
// steps outside Docker. Anything it does not understand throws, so a Dockerfile change that the
// steps test cannot follow fails loudly instead of being skipped.
import fs from 'node:fs';
import path from 'node:path';

export interface Instruction {
  keyword: string;
  /** The arguments, continuation lines joined. */
  args: string;
  /** 1-based line where the instruction starts. */
  line: number;
}

export interface Stage {
  name: string | undefined;
  base: string;
  instructions: Instruction[];
}

const KNOWN = new Set(['FROM', 'WORKDIR', 'ENV', 'ARG', 'COPY', 'RUN', 'USER', 'EXPOSE', 'HEALTHCHECK', 'CMD', 'LABEL']);

/** Splits a Dockerfile into stages of instructions (comments dropped, `\` continuations joined). */
export function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    // Comment and blank lines are dropped, also inside a continuation.
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const continued = /\\\s*$/.test(raw);
    const part = continued ? raw.replace(/\\\s*$/, '') : raw;
    pending = pending ? { text: pending.text + part, line: pending.line } : { text: part, line: index + 1 };
    if (continued) return;
    instructions.push(toInstruction(pending.text, pending.line));
    pending = undefined;
  });
  if (pending) instructions.push(toInstruction(pending.text, pending.line));

  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!match) throw new Error(`line ${instruction.line}: cannot read FROM ${instruction.args}`);
      stages.push({ base: match[1]!, name: match[2], instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`line ${instruction.line}: ${instruction.keyword} before FROM`);
    stage.instructions.push(instruction);
  }
  return stages;
}

function toInstruction(text: string, line: number): Instruction {
  const match = /^\s*(\S+)\s*(.*)$/s.exec(text);
  const keyword = match![1]!.toUpperCase();
  if (!KNOWN.has(keyword)) {
    throw new Error(`line ${line}: ${keyword} is not supported by test/container/dockerfile.ts (teach it, or avoid it)`);
  }
  return { keyword, args: match![2]!.trim(), line };
}

/** `["a", "b"]` (exec form) as an array; undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
    throw new Error(`not a JSON array of strings: ${args}`);
  }
  return parsed;
}

/** Leading `--name=value` flags and the rest. */
export function splitFlags(args: string): { flags: Map<string, string>; rest: string } {
  const flags = new Map<string, string>();
  let rest = args;
  for (;;) {
    const match = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest);
    if (!match) return { flags, rest };
    flags.set(match[1]!, match[2] ?? 'true');
    rest = rest.slice(match[0].length);
  }
}

function noVariables(args: string, where: string): void {
  if (args.includes('$')) throw new Error(`${where}: variable substitution is not supported by test/container/dockerfile.ts`);
}

/** `ENV A=1 B="two"` (or the legacy `ENV A 1`). */
export function parseEnv(args: string): Record<string, string> {
  noVariables(args, `ENV ${args}`);
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(args)) {
    const match = /^(\S+)\s+(.*)$/.exec(args);
    if (!match) throw new Error(`cannot read ENV ${args}`);
    return { [match[1]!]: match[2]! };
  }
  const env: Record<string, string> = {};
  const pair = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)\s*/y;
  let index = 0;
  while (index < args.length) {
    pair.lastIndex = index;
    const match = pair.exec(args);
    if (!match) throw new Error(`cannot read ENV ${args}`);
    const raw = match[2]!;
    env[match[1]!] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw.startsWith("'") ? raw.slice(1, -1) : raw;
    index = pair.lastIndex;
  }
  return env;
}

/** `ARG NAME` or `ARG NAME=default` (quoted or not): the name and its default ('' when none). */
export function parseArg(args: string): { name: string; value: string } {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:=("(?:[^"\\$]|\\.)*"|'[^']*'|[^\s"'$]*))?$/.exec(args.trim());
  if (!match) throw new Error(`cannot read ARG ${args} (one NAME[=default] without variables)`);
  const raw = match[2] ?? '';
  return { name: match[1]!, value: raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw.startsWith("'") ? raw.slice(1, -1) : raw };
}

/**
 * `LABEL a="x" b=y`, with `${NAME}` / `$NAME` taken from `args` (the stage's ARG defaults, or
 * `--build-arg` values); a variable that is not an ARG throws.
 */
export function parseLabel(text: string, args: Record<string, string> = {}): Record<string, string> {
  const labels: Record<string, string> = {};
  const pair = /([\w.-]+)=("(?:[^"\\]|\\.)*"|\S*)\s*/y;
  let index = 0;
  while (index < text.length) {
    pair.lastIndex = index;
    const match = pair.exec(text);
    if (!match) throw new Error(`cannot read LABEL ${text}`);
    const raw = match[2]!.startsWith('"') ? match[2]!.slice(1, -1).replace(/\\(.)/g, '$1') : match[2]!;
    labels[match[1]!] = raw.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, braced: string | undefined, bare: string | undefined) => {
      const name = (braced ?? bare)!;
      if (!(name in args)) throw new Error(`LABEL ${match[1]}: $${name} is not an ARG of this stage`);
      return args[name]!;
    });
    index = pair.lastIndex;
  }
  return labels;
}

export interface CopySpec {
  from: string | undefined;
  sources: string[];
  dest: string;
}

export function parseCopy(args: string): CopySpec {
  noVariables(args, `COPY ${args}`);
  const { flags, rest } = splitFlags(args);
  for (const flag of flags.keys()) {
    if (flag !== 'from') throw new Error(`COPY --${flag} is not supported by test/container/dockerfile.ts`);
  }
  const parts = execForm(rest) ?? rest.split(/\s+/);
  if (parts.length < 2) throw new Error(`COPY needs a source and a destination: ${args}`);
  if (parts.some((part) => /[*?[]/.test(part))) throw new Error(`COPY wildcards are not supported by test/container/dockerfile.ts: ${args}`);
  return { from: flags.get('from'), sources: parts.slice(0, -1), dest: parts.at(-1)! };
}

/** EXPOSE entries as a set of `port/proto` (ranges expanded; the protocol defaults to tcp). */
export function parseExpose(args: string): Set<string> {
  const ports = new Set<string>();
  for (const entry of args.split(/\s+/)) {
    const match = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp))?$/i.exec(entry);
    if (!match) throw new Error(`cannot read EXPOSE ${entry}`);
    const first = Number(match[1]);
    const last = Number(match[2] ?? match[1]);
    for (let port = first; port <= last; port++) ports.add(`${port}/${(match[3] ?? 'tcp').toLowerCase()}`);
  }
  return ports;
}

export interface Healthcheck {
  /** The command as argv: the exec form, or the shell form as `/bin/sh -c …`. */
  argv: string[];
  timeoutMs: number;
  options: Map<string, string>;
}

export function parseHealthcheck(args: string): Healthcheck {
  const { flags, rest } = splitFlags(args);
  const match = /^CMD\s+(.*)$/is.exec(rest);
  if (!match) throw new Error(`HEALTHCHECK must be HEALTHCHECK [options] CMD …, got ${args}`);
  const command = match[1]!.trim();
  return {
    argv: execForm(command) ?? ['/bin/sh', '-c', command],
    timeoutMs: durationMs(flags.get('timeout') ?? '30s'),
    options: flags,
  };
}

/** Docker durations: 5s, 1m30s, 500ms. */
export function durationMs(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  const rest = text.replace(/(\d+(?:\.\d+)?)(ms|s|m|h)/g, (_, n: string, unit: string) => {
    total += Number(n) * units[unit]!;
    return '';
  });
  if (rest !== '' || text === '') throw new Error(`cannot read duration ${text}`);
  return total;
}

/**
 * A .dockerignore as a predicate on context-relative paths (forward slashes). Like Docker: a
 * pattern applies to a path it matches and to everything below; the last one that applies wins,
 * and `!` re-includes (copyInto does not walk into an excluded directory to find such a file).
 */
export function dockerignore(text: string): (relative: string) => boolean {
  const rules = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = path.posix.normalize((negate ? line.slice(1) : line).trim()).replace(/^\/+/, '').replace(/\/+$/, '');
      return { negate, pattern };
    });
  return (relative) => {
    const parts = relative.split('/');
    const selfAndParents = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) {
      if (selfAndParents.some((p) => path.posix.matchesGlob(p, rule.pattern))) excluded = !rule.negate;
    }
    return excluded;
  };
}

/**
 * Docker's COPY onto a directory tree: `rootfs` stands for the stage's `/`. A source directory's
 * contents go into the destination; a file goes into it when it ends in `/` (or there are several
 * sources), else becomes it. `excluded` filters paths relative to `sourceRoot` (.dockerignore).
 */
export function copyInto(
  spec: CopySpec,
  { sourceRoot, rootfs, workdir, excluded }: { sourceRoot: string; rootfs: string; workdir: string; excluded?: (relative: string) => boolean },
): void {
  const destination = path.posix.resolve(workdir, spec.dest);
  const intoDirectory = spec.dest.endsWith('/') || spec.sources.length > 1;
  for (const source of spec.sources) {
    const relative = path.posix.normalize(source).replace(/^\/+/, '');
    if (relative.startsWith('..')) throw new Error(`COPY source outside its root: ${source}`);
    const from = path.join(sourceRoot, relative);
    if (!fs.existsSync(from) || excluded?.(relative)) throw new Error(`COPY ${source}: not found (or excluded by .dockerignore)`);
    const isDirectory = fs.statSync(from).isDirectory();
    const target = path.join(rootfs, isDirectory || !intoDirectory ? destination : path.posix.join(destination, path.posix.basename(relative)));
    fs.mkdirSync(isDirectory ? target : path.dirname(target), { recursive: true });
    fs.cpSync(from, target, {
      recursive: true,
      verbatimSymlinks: true,
      filter: (file) => !excluded?.(path.relative(sourceRoot, file).split(path.sep).join('/')),
    });
  }
}
