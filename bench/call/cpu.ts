/**
 * CPU time of processes from /proc (Linux): the Chromium that Playwright launched (every descendant
 * of this Node process named chrom*: browser, GPU, network, renderers) and single processes (the
 * mediasoup worker). Times are user + system, in seconds; a process that ends between two readings
 * takes its time with it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

interface Stat {
  pid: number;
  comm: string;
  ppid: number;
  seconds: number;
}

function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ..." — comm may hold spaces and parentheses: split at the last ')'.
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  return { pid, comm: text.slice(text.indexOf('(') + 1, close), ppid: Number(fields[1]), seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND };
}

/** The whole machine's CPU time so far, busy and in all, in ticks (/proc/stat: all cores). */
export function machineTicks(): { busy: number; total: number } {
  const [, ...fields] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const ticks = fields.slice(0, 8).map(Number); // user nice system idle iowait irq softirq steal
  const total = ticks.reduce((a, b) => a + b, 0);
  return { busy: total - ticks[3]! - ticks[4]!, total };
}

/** CPU seconds of one process (undefined when it is gone). */
export function processSeconds(pid: number): number | undefined {
  return readStat(pid)?.seconds;
}

/** pid → CPU seconds of every Chromium process under this Node process. */
export function chromiumSeconds(): Map<number, number> {
  const all: Stat[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat) all.push(stat);
  }
  const children = new Map<number, Stat[]>();
  for (const s of all) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const out = new Map<number, number>();
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      if (/^chrom/i.test(child.comm)) out.set(child.pid, child.seconds);
      walk(child.pid);
    }
  };
  walk(process.pid);
  return out;
}

/** CPU used between two chromiumSeconds() readings, in seconds (processes in both, or new ones). */
export function chromiumDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}
