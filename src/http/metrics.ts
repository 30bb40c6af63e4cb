/**
 * Prometheus metrics (text exposition format, https://prometheus.io/docs/instrumenting/exposition_formats/) via
 * prom-client, one registry per server (no global state): requests by route template and status, request
 * latency, store commit latency and queue depth, open connections, and Node's own process metrics (heap, GC,
 * event-loop lag). Labels are route templates of the route table, never paths, so their number stays bounded.
 * Served by `metricsListener` on its own port (METRICS_PORT), off the public API.
 */
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Store, StoreTransaction } from '../storage/port';
import { withTransaction } from '../storage/with-transaction';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly latency: Histogram<'method' | 'route'>;
  private readonly commits: Histogram<'outcome'>;
  private readonly queued: Gauge;
  private connections = 0;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests by method, route template and status', labelNames: ['method', 'route', 'status'], registers });
    this.latency = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by method and route template',
      labelNames: ['method', 'route'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.commits = new Histogram({
      name: 'store_transaction_duration_seconds',
      help: 'Store write transactions from start to durable commit (or failure), by outcome',
      labelNames: ['outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.queued = new Gauge({ name: 'store_transactions_in_flight', help: 'Write transactions started and not yet committed (queued or running)', registers });
    const self = this;
    new Gauge({
      name: 'http_open_connections',
      help: 'Open client connections of the public listener',
      registers,
      collect() {
        this.set(self.connections);
      },
    });
  }

  /** Label children by key, so a request costs a map lookup instead of prom-client hashing its labels. */
  private readonly counted = new Map<string, { inc(): void }>();
  private readonly timed = new Map<string, { observe(value: number): void }>();

  request(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route}`;
    const countKey = `${key} ${status}`;
    let counter = this.counted.get(countKey);
    if (!counter) this.counted.set(countKey, (counter = this.requests.labels({ method, route, status: String(status) })));
    counter.inc();
    let timer = this.timed.get(key);
    if (!timer) this.timed.set(key, (timer = this.latency.labels({ method, route })));
    timer.observe(seconds);
  }

  /** Counts the open connections of the public HTTP server. */
  watch(server: Server): void {
    server.on('connection', (socket) => {
      this.connections++;
      socket.once('close', () => this.connections--);
    });
  }

  /**
   * The same store, with each write transaction timed and counted while in flight (every other member is the
   * store's own).
   */
  observe(store: Store): Store {
    const metrics = this;
    async function transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
      const end = metrics.commits.startTimer();
      metrics.queued.inc();
      try {
        const result = await store.transaction(work);
        end({ outcome: 'committed' });
        return result;
      } catch (err) {
        end({ outcome: 'failed' });
        throw err;
      } finally {
        metrics.queued.dec();
      }
    }
    return withTransaction(store, transaction);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** A listener that answers GET /metrics and nothing else (to run on METRICS_PORT). */
export function metricsListener(metrics: ServerMetrics): Server {
  return createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Only GET /metrics is served on this port\n');
      return;
    }
    metrics.text().then(
      (text) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics collection failed\n'),
    );
  });
}
