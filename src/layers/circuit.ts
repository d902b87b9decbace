import { BrokenCircuitError, type CircuitBreakerPolicy, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen } from 'cockatiel';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Backend } from '../core/backend.js';
import { StorageError, isStorageError } from '../core/errors.js';
import { forwardAll } from './forward.js';
import type { Layer } from './layer.js';

/**
 * A circuit breaker per backend (cockatiel). It sits outside the retry layer, so it counts
 * calls that failed after their retries: a few transient errors never open it, a backend that
 * is really gone opens it after `failures` such calls in a row. While open, every call fails
 * at once with BackendUnavailable (so the fallback takes over without waiting on timeouts);
 * after `halfOpenAfterMs` one call is let through as a probe, and its outcome closes or
 * re-opens the circuit. Only unavailability counts: NotFound, TooLarge and the like are the
 * caller's business, not the backend's health.
 */
export type CircuitStateName = 'closed' | 'open' | 'half-open';

export interface CircuitOptions {
  /** Consecutive failed calls that open the circuit. */
  failures: number;
  /** How long it stays open before a probe is let through. */
  halfOpenAfterMs: number;
}

export const DEFAULT_CIRCUIT: CircuitOptions = { failures: 5, halfOpenAfterMs: 5000 };

const NAMES: Record<CircuitState, CircuitStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'open',
};

const counts = (err: unknown) => isStorageError(err, 'BackendUnavailable');

export class BackendCircuit {
  readonly policy: CircuitBreakerPolicy;
  private changedAt = new Date();
  private opens = 0;

  constructor(
    readonly name: string,
    readonly options: CircuitOptions = DEFAULT_CIRCUIT,
  ) {
    this.policy = circuitBreaker(handleWhen(counts), { halfOpenAfter: options.halfOpenAfterMs, breaker: new ConsecutiveBreaker(options.failures) });
    this.policy.onStateChange((state) => {
      this.changedAt = new Date();
      if (state === CircuitState.Open) this.opens += 1;
    });
  }

  get state(): CircuitStateName {
    return NAMES[this.policy.state];
  }

  /** What `/storage/status` shows. */
  status() {
    return { state: this.state, since: this.changedAt.toISOString(), opens: this.opens, failuresToOpen: this.options.failures, halfOpenAfterMs: this.options.halfOpenAfterMs };
  }

  /** `bucketgate_circuit_state{backend}` (0 closed, 1 open, 2 half-open) and the number of openings. */
  register(registry: Registry): void {
    const name = this.name;
    const stateOf = () => this.state;
    const opens = () => this.opens;
    new Gauge({
      name: 'bucketgate_circuit_state',
      help: 'Circuit breaker state per backend: 0 closed, 1 open, 2 half-open',
      labelNames: ['backend'],
      registers: [registry],
      aggregator: 'max', // serve --workers: the most troubled worker's state
      collect() {
        const state = stateOf();
        this.set({ backend: name }, state === 'closed' ? 0 : state === 'open' ? 1 : 2);
      },
    });
    new Counter({
      name: 'bucketgate_circuit_opened_total',
      help: 'Times the circuit breaker opened, per backend',
      labelNames: ['backend'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ backend: name }, opens());
      },
    });
  }

  async execute<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await this.policy.execute(call);
    } catch (err) {
      if (err instanceof BrokenCircuitError) {
        throw new StorageError('BackendUnavailable', `${this.name} is failing; its circuit breaker is open, so the call was not tried`, {
          temporary: true,
          details: { circuit: 'open' },
        });
      }
      throw err;
    }
  }
}

export function circuitLayer(circuit: BackendCircuit): Layer {
  return (inner: Backend): Backend => ({
    ...forwardAll(inner, (_op, _key, call) => circuit.execute(call)),
    // Presigning is signing, not a call to the store (S3): refusing it during an outage would
    // only break upload grants whose bytes then come through the service (and its fallback).
    presign: (key, opts) => inner.presign(key, opts),
  });
}

/** True for the fail-fast error of an open circuit (nothing reached the backend). */
export function isCircuitOpen(err: unknown): boolean {
  return isStorageError(err, 'BackendUnavailable') && err.details?.circuit === 'open';
}
