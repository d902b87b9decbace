/** Who is asking: decided once per request from the bearer token, then passed to the policy. */
export interface Principal {
  /** `anon` (no or anon token), `authenticated`, or `service_role`. */
  role: 'anon' | 'authenticated' | 'service_role';
  /** The user id (`sub` claim); absent for anonymous callers. */
  sub?: string;
}

export const ANONYMOUS: Principal = Object.freeze({ role: 'anon' });
export const SERVICE: Principal = Object.freeze({ role: 'service_role', sub: 'service' });
