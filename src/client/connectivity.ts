import Alpine from '@alpinejs/csp';
import { describeCandidate, describePaths, describeRelay, type Outcome } from './connectivityDiagnosis.ts';
import { runCheck } from './connectivityCheck.ts';

/** The connection check page: runs the check on load and on request, and shows its report. */
Alpine.data('connectivity', () => ({
  running: false,
  outcome: 'running' as Outcome,
  headline: 'Checking\u2026',
  detail: 'Starting the check.',
  announced: [] as string[],
  /** One line per path tested: UDP, TCP, the relay. */
  paths: [] as string[],
  path: '',
  advice: [] as string[],
  elapsed: '',

  init(this: any) {
    void this.run();
  },

  async run(this: any) {
    if (this.running) return;
    this.running = true;
    this.outcome = 'running';
    this.headline = 'Checking\u2026';
    this.detail = 'Starting the check.';
    this.advice = [];
    this.announced = [];
    this.paths = [];
    this.path = '';
    this.elapsed = '';
    const result = await runCheck((step) => {
      this.detail = step;
    });
    this.outcome = result.report.outcome;
    this.headline = result.report.headline;
    this.detail = result.report.detail;
    this.advice = result.report.advice;
    this.announced = result.announced.map(describeCandidate);
    this.paths = describePaths(result.paths);
    const relayed = result.report.outcome === 'relay' ? ` through ${describeRelay(result.paths.find((p) => p.path === 'relay')?.relay)}` : '';
    this.path = result.selected ? `${describeCandidate(result.selected)}${relayed}` : result.report.outcome === 'none' ? 'No connection' : '';
    this.elapsed = `${(result.elapsedMs / 1000).toFixed(1)} s`;
    this.running = false;
    (window as unknown as { connectivityResult: unknown }).connectivityResult = result;
  },

  get statusClass() {
    const classes: Record<Outcome, string> = { running: 'is-running', udp: 'is-ok', tcp: 'is-warn', relay: 'is-warn', connected: 'is-ok', none: 'is-bad', error: 'is-bad' };
    return classes[this.outcome as Outcome];
  },
  get hasAnnounced() {
    return this.announced.length > 0;
  },
  get hasPaths() {
    return this.paths.length > 0;
  },
  get hasPath() {
    return this.path !== '';
  },
  get pathClass() {
    return this.outcome === 'none' ? '' : 'check-mono';
  },
  get hasElapsed() {
    return this.elapsed !== '';
  },
  get hasAdvice() {
    return this.advice.length > 0;
  },
  get busy() {
    return this.running ? 'true' : 'false';
  },
}));

Alpine.start();
