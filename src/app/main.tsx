import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { bindUrlHash } from './state/url-sync';
import { useStudio } from './state/store';
import './styles.css';

bindUrlHash();
void useStudio.getState().startEngine();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
