import { useRef, useState, type DragEvent } from 'react';
import { useStudio } from '../state/store';

async function readFiles(list: FileList | File[]) {
  return Promise.all(Array.from(list, async (file) => ({ name: file.name, bytes: await file.arrayBuffer() })));
}

/** File picker and drop zone for a tfjs LayersModel (model.json + .bin shards). */
export function ModelImport() {
  const importFiles = useStudio((s) => s.importFiles);
  const importing = useStudio((s) => s.importing);
  const error = useStudio((s) => s.importError);
  const notice = useStudio((s) => s.importNotice);
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);

  const take = async (files: FileList | File[] | null) => {
    if (!files || files.length === 0) return;
    await importFiles(await readFiles(files));
    if (input.current) input.current.value = '';
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    void take(e.dataTransfer.files);
  };

  return (
    <section className="card import" aria-labelledby="import-title">
      <h3 id="import-title">Your own model</h3>
      <div
        className={over ? 'dropzone over' : 'dropzone'}
        data-testid="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <p>Drop a tfjs LayersModel here: <code>model.json</code> with its <code>.bin</code> weight files.</p>
        <button type="button" onClick={() => input.current?.click()} disabled={importing}>
          {importing ? 'Checking…' : 'Choose files…'}
        </button>
        <input
          ref={input}
          type="file"
          multiple
          accept=".json,.bin,application/json,application/octet-stream"
          data-testid="model-files"
          aria-label="Model files (model.json and .bin weights)"
          hidden
          onChange={(e) => void take(e.target.files)}
        />
      </div>
      {error && (
        <p className="error" role="alert" data-testid="import-error">
          {error}
        </p>
      )}
      {notice && !error && (
        <p className="notice" role="status" data-testid="import-notice">
          {notice}
        </p>
      )}
    </section>
  );
}
