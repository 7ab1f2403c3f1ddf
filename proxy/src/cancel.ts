// The request's cancellation: what ProxyRequest.signal is. A structural subset of AbortSignal (so a real
// AbortSignal fits too, as in tests), made by `Cancellation`, a plain class, because an AbortController per
// request is among the costliest things in the proxy's hot path: Node's EventTarget allocates and validates
// on every add/remove (measured in a CPU profile of a proxied h2 request: ~7 µs of ~155 µs, plus its GC).

export type CancelListener = () => void;

export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: CancelListener, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: CancelListener): void;
}

/** A one-shot cancel signal: listeners run once, at the first abort(); a listener added after it never runs
 *  (as with AbortSignal, callers check `aborted` first). Listeners are few (one per layer that holds
 *  resources), so an array beats a Set here. */
export class Cancellation implements CancelSignal {
  private listeners: CancelListener[] | undefined;
  private done = false;

  get aborted(): boolean {
    return this.done;
  }

  get signal(): CancelSignal {
    return this;
  }

  /** Every listener is once-only, so `options` changes nothing. */
  addEventListener(_type: 'abort', listener: CancelListener, _options?: { once?: boolean }): void {
    if (this.done) return;
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: CancelListener): void {
    const list = this.listeners;
    if (!list) return;
    const at = list.indexOf(listener);
    if (at >= 0) list.splice(at, 1);
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    const list = this.listeners;
    this.listeners = undefined;
    if (list) for (const listener of list) listener();
  }
}
