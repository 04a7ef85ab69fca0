import { startTransition, useEffect, useRef, useState } from 'react';

/**
 * The value at most once per `ms`, always ending on the latest. Charts redraw on a slower schedule
 * than the computation feeding them, so the main thread never stalls behind a stream of updates.
 * Updates are transitions: React renders them in slices and yields between, so a costly redraw
 * never blocks input for long.
 */
export function useThrottled<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const wait = last.current + ms - performance.now();
    const show = () => {
      last.current = performance.now();
      startTransition(() => setShown(value));
    };
    if (wait <= 0) {
      show();
      return;
    }
    const timer = setTimeout(show, wait);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return shown;
}
