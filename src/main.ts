import { mount } from 'svelte';
import './ui/app.css';
import App from './ui/App.svelte';
import { SimState } from './ui/state.svelte.js';
import { openShareLink } from './ui/lib/open-link.js';
import type { SimClient } from './worker/client.js';

declare global {
  interface Window {
    /** For tests and debugging: the worker client and the page's state. */
    coloSim: { client: SimClient; state: SimState };
  }
}

const target = document.getElementById('app');
if (!target) throw new Error('index.html lacks #app');

/** ?db=name runs a separate saved simulation (the default is "colo-sim"). */
const databaseName = new URLSearchParams(location.search).get('db') || 'colo-sim';
const state = new SimState(databaseName);
window.coloSim = { client: state.client, state };
mount(App, { target, props: { sim: state } });
// A share link (#scenario=...&step=N or ?scenario=<URL>&step=N) opens once the simulation is there.
void state.connect().then(() => openShareLink(state));
// A link pasted into the address bar of a page already open changes only its fragment: no reload.
window.addEventListener('hashchange', () => void openShareLink(state));
