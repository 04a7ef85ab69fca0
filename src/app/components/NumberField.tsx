import { useEffect, useId, useState } from 'react';

interface Props {
  label: string;
  value: number;
  min: number;
  max: number;
  step: number | 'any';
  integer?: boolean;
  disabled?: boolean;
  onChange(value: number): void;
}

/** A number input that only commits valid values and says why a value is refused. */
export function NumberField({ label, value, min, max, step, integer, disabled, onChange }: Props) {
  const id = useId();
  const [text, setText] = useState(String(value));
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => setText(String(value)), [value]);

  const commit = (raw: string) => {
    setText(raw);
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) return setProblem('enter a number');
    if (integer && !Number.isInteger(n)) return setProblem('enter a whole number');
    if (n < min || n > max) return setProblem(`between ${min} and ${max}`);
    setProblem(null);
    onChange(n);
  };
  return (
    <label className="field" htmlFor={id}>
      <span>{label}</span>
      <input id={id} type="number" inputMode="decimal" value={text} min={min} max={max} step={step} disabled={disabled} aria-invalid={problem !== null} onChange={(e) => commit(e.target.value)} />
      {problem && <small className="error">{problem}</small>}
    </label>
  );
}
