import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { startTheme } from './lib/theme';
import './styles.css';

// Before the first render, so the first paint is already in the chosen theme (the content
// security policy allows no inline script in index.html to do it earlier).
startTheme();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
