import { render } from 'preact';
import { App } from './app.js';
import { html } from './lib/html.js';
import { interceptLinks } from './lib/router.js';

const root = document.getElementById('app') as HTMLElement;
// The "Loading…" placeholder is static HTML, not Preact's: clear it before the first render.
root.textContent = '';
interceptLinks();
render(html`<${App} />`, root);
