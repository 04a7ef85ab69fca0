import { useEffect, useRef, useState, type RefObject } from 'react';

/** The width of the element behind the returned ref, kept current as it resizes. */
export function useWidth(initial = 640, minimum = 200): [RefObject<HTMLDivElement | null>, number] {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(initial);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const observer = new ResizeObserver(([entry]) => setWidth(Math.max(minimum, Math.floor(entry.contentRect.width))));
    observer.observe(el);
    return () => observer.disconnect();
  }, [minimum]);
  return [box, width];
}
