import { createHash, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { ApiConfig, ApiScope } from '../config/types.js';

/** Who a request authenticated as, and what it may do. */
export interface Principal {
  /** The basic auth user name, or `token #i` (never the secret). */
  name: string;
  scopes: ReadonlySet<ApiScope>;
}

const ALL_SCOPES: ReadonlySet<ApiScope> = new Set(['read', 'write', 'admin']);
/** bcrypt verdicts kept per Authorization header, so a client's every request does not cost a bcrypt round. */
const CACHE_ENTRIES = 1000;

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * The credentials of one server: bcrypt basic auth users (every scope, as Prometheus' `basic_auth_users`) and
 * bearer tokens with their scopes. Tokens are compared as SHA-256 digests in constant time.
 */
export class Credentials {
  private readonly users: Record<string, string>;
  private readonly tokens: { digest: Buffer; principal: Principal }[];
  private readonly verdicts = new Map<string, boolean>();

  constructor(api: Pick<ApiConfig, 'basic_auth_users' | 'tokens'>) {
    this.users = { ...api.basic_auth_users };
    this.tokens = api.tokens.map((t, i) => ({ digest: digest(t.token), principal: { name: `token #${i}`, scopes: new Set(t.scopes) } }));
  }

  /** True when nothing is configured: the server is open (loopback, or `insecure_open`). */
  get empty(): boolean {
    return this.tokens.length === 0 && Object.keys(this.users).length === 0;
  }

  /** The WWW-Authenticate challenge naming the schemes this server accepts. */
  challenge(realm: string): string {
    const schemes: string[] = [];
    if (Object.keys(this.users).length > 0) schemes.push(`Basic realm="${realm}"`);
    if (this.tokens.length > 0) schemes.push(`Bearer realm="${realm}"`);
    return schemes.join(', ');
  }

  /** The principal an Authorization header proves, or undefined when it proves nothing. */
  async verify(authorization: string): Promise<Principal | undefined> {
    const m = /^(\S+)\s+(\S+)\s*$/.exec(authorization);
    if (!m) return undefined;
    const scheme = m[1]!.toLowerCase();
    if (scheme === 'bearer') return this.verifyToken(m[2]!);
    if (scheme === 'basic') return this.verifyBasic(m[2]!);
    return undefined;
  }

  private verifyToken(token: string): Principal | undefined {
    const d = digest(token);
    let found: Principal | undefined;
    for (const t of this.tokens) if (timingSafeEqual(t.digest, d)) found = t.principal;
    return found;
  }

  private async verifyBasic(encoded: string): Promise<Principal | undefined> {
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i <= 0) return undefined;
    const user = decoded.slice(0, i);
    const hash = Object.hasOwn(this.users, user) ? this.users[user] : undefined;
    if (hash === undefined) return undefined;
    const key = digest(encoded).toString('base64');
    let good = this.verdicts.get(key);
    if (good === undefined) {
      good = await bcrypt.compare(decoded.slice(i + 1), hash);
      if (this.verdicts.size >= CACHE_ENTRIES) this.verdicts.delete(this.verdicts.keys().next().value!);
      this.verdicts.set(key, good);
    }
    return good ? { name: user, scopes: ALL_SCOPES } : undefined;
  }
}
