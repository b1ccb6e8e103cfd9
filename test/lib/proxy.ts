// Chaos TCP proxy for link tests: sits between agent and hub and can cut (close or RST every
// connection and refuse new ones), blackhole (keep connections but hold every byte, as a dead
// route does: TCP delivers them later if the connection survives), slow (delay every chunk)
// and reset (RST every connection, keep accepting).
import net from 'node:net';

export type ProxyMode = 'pass' | 'cut' | 'blackhole' | 'slow';

export class ChaosProxy {
  mode: ProxyMode = 'pass';
  delayMs = 0;
  connections = 0;
  private readonly conns = new Set<net.Socket>();
  private server: net.Server;
  /** Bytes held by a blackhole, delivered in order on heal. */
  private held: (() => void)[] = [];

  private constructor(private readonly target: { host: string; port: number }) {
    this.server = net.createServer((client) => this.onClient(client));
  }

  static async start(target: { host: string; port: number }): Promise<ChaosProxy> {
    const p = new ChaosProxy(target);
    await new Promise<void>((r) => p.server.listen(0, '127.0.0.1', () => r()));
    return p;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  private onClient(client: net.Socket): void {
    if (this.mode === 'cut') {
      client.destroy();
      return;
    }
    this.connections++;
    const upstream = net.connect(this.target.port, this.target.host);
    const pair = [client, upstream];
    for (const s of pair) {
      this.conns.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        this.conns.delete(s);
        for (const o of pair) if (o !== s) o.destroy();
      });
    }
    const forward = (to: net.Socket) => (chunk: Buffer) => {
      if (this.mode === 'cut') return;
      if (this.mode === 'blackhole') {
        this.held.push(() => { if (!to.destroyed) to.write(chunk); });
        return;
      }
      if (this.mode === 'slow' && this.delayMs > 0) {
        setTimeout(() => { if (!to.destroyed) to.write(chunk); }, this.delayMs);
        return;
      }
      if (!to.destroyed) to.write(chunk);
    };
    client.on('data', forward(upstream));
    upstream.on('data', forward(client));
  }

  /** Closes every connection (with RST when `rst`) and refuses new ones until `heal()`. */
  cut(rst = false): void {
    this.mode = 'cut';
    this.held = [];
    for (const s of this.conns) {
      if (rst) s.resetAndDestroy();
      else s.destroy();
    }
  }

  /** Keeps connections open but holds every byte, both ways (a dead link). */
  blackhole(): void {
    this.mode = 'blackhole';
  }

  /** Delays every chunk by `ms`. */
  slow(ms: number): void {
    this.mode = 'slow';
    this.delayMs = ms;
  }

  /** Sends RST on every connection; new connections are accepted. */
  reset(): void {
    for (const s of this.conns) s.resetAndDestroy();
  }

  /** Back to passing bytes; what a blackhole held is delivered (to connections still open). */
  heal(): void {
    this.mode = 'pass';
    const held = this.held;
    this.held = [];
    for (const f of held) f();
  }

  async close(): Promise<void> {
    for (const s of this.conns) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
