/**
 * Lets queued tasks (a worker's incoming messages: cancel requests) run. Awaiting a resolved promise
 * only drains microtasks, so long loops must yield a macrotask for cancellation to be seen.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
