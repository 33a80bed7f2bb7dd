import { ColearnModel, IEventSourceLike } from '../../model';

/** An event stream the test drives: `emit` and `emitNamed` deliver events, `last` is the newest one. */
export class FakeEventSource implements IEventSourceLike {
  static last: FakeEventSource | null = null;
  onmessage: ((event: MessageEvent) => any) | null = null;
  onerror: ((event: Event) => any) | null = null;
  onopen: ((event: Event) => any) | null = null;
  readyState = 0;
  closed = false;
  listeners: Record<string, ((event: MessageEvent) => any)[]> = {};
  addEventListener(type: string, listener: (event: MessageEvent) => any): void {
    (this.listeners[type] ??= []).push(listener);
  }
  emitNamed(type: string, data: unknown): void {
    for (const listener of this.listeners[type] ?? []) {
      listener({ data: JSON.stringify(data) } as MessageEvent);
    }
  }
  constructor(readonly url: string) {
    FakeEventSource.last = this;
  }
  close(): void {
    this.closed = true;
    this.readyState = 2;
  }
  emit(data: unknown): void {
    this.onmessage?.({ data: JSON.stringify(data) } as MessageEvent);
  }
}

/** A model without debounce delays, on fake event streams, at a fixed time. */
export function newModel(): ColearnModel {
  return new ColearnModel({
    searchDelay: 0,
    eventDelay: 0,
    eventSourceFactory: url => new FakeEventSource(url),
    now: () => 1700000000
  });
}

/**
 * Open a model's event stream and have the browser give up on it (closed at once), then run `check`
 * with fake timers (the reconnection waits on them).
 */
export function withClosedStream(check: (first: FakeEventSource) => void): void {
  jest.useFakeTimers();
  try {
    const model = newModel();
    model.connectEvents();
    const first = FakeEventSource.last as FakeEventSource;
    first.readyState = 2;
    first.onerror?.({} as Event);
    check(first);
    model.dispose();
  } finally {
    jest.useRealTimers();
  }
}
