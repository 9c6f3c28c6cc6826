/**
 * Opening a share link when the page loads (issue 9): `#scenario=<data>&step=N` or
 * `?scenario=<URL>&step=N` (src/ui/lib/share-link.ts decodes both). The scenario is opened as a
 * file would be: over the user's own session the page asks first (the replace dialog), so the
 * saved simulation is never lost to a link. A link that cannot be used leaves the simulation as
 * it is and says why (`TimeTravel.linkProblem`, shown by LinkProblem.svelte), never a blank page.
 */
import type { SimState } from '../state.svelte.js';
import { decodeShareLink, fetchLinkedScenario } from './share-link.js';

/** The scenario a link opens is named this in the scenario panel (a `?scenario=` link: its file name). */
const INLINE_NAME = 'shared-link.json';
/** How long a link waits for the simulation's first frame, in ms. */
const CONNECT_WAIT_MS = 15_000;

/** The address without the link's own parameters: a reload does not open the link again. */
function addressWithoutLink(href: string): string {
  const url = new URL(href);
  url.searchParams.delete('scenario');
  url.searchParams.delete('step');
  const fragment = new URLSearchParams(url.hash.replace(/^#/, ''));
  if (fragment.has('scenario')) url.hash = '';
  return url.toString();
}

/** Opens the scenario the page's address names, if any. Never throws. */
export async function openShareLink(sim: SimState, href: string = location.href): Promise<void> {
  const link = await decodeShareLink(href);
  if (link.kind === 'none') return;
  // The first frame says what the simulation holds (whether opening replaces the user's own work).
  for (let waitedMs = 0; sim.summary === null && sim.persistence?.kind !== 'locked-elsewhere' && waitedMs < CONNECT_WAIT_MS; waitedMs += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  if (!sim.connected) {
    // Another tab owns the simulation: the link stays in the address, to open once this tab has it.
    sim.travel.linkProblem = { message: 'another tab owns the simulation here; take it over in this tab, then reload to open the link' };
    return;
  }
  history.replaceState(history.state, '', addressWithoutLink(href));
  if (link.kind === 'error') {
    sim.travel.linkProblem = { message: link.message };
    return;
  }
  let text: string;
  let name: string;
  if (link.kind === 'url') {
    const fetched = await fetchLinkedScenario(link.url, (url) => fetch(url));
    if (!fetched.ok) {
      sim.travel.linkProblem = { message: fetched.message };
      return;
    }
    text = fetched.text;
    // Many servers answer a missing file with their index page: say so before asking anything.
    try {
      JSON.parse(text);
    } catch (error) {
      sim.travel.linkProblem = { message: `the file at ${link.url} is not a scenario: it is not JSON (${error instanceof Error ? error.message : String(error)})` };
      return;
    }
    name = decodeURIComponent(new URL(link.url).pathname.split('/').pop() || 'linked-scenario.json');
  } else {
    text = link.scenarioText;
    name = INLINE_NAME;
  }
  sim.fileProblem = null;
  const opened = await sim.loadScenarioText(name, text, { upToStep: link.step ?? 0 });
  if (!opened) {
    const problem = sim.fileProblem as { errors: ReadonlyArray<{ path: string; message: string }> } | null;
    const first = problem?.errors[0];
    sim.travel.linkProblem = first
      ? { message: `the link's scenario is not a valid scenario file (${first.path ? `${first.path}: ` : ''}${first.message})` }
      : { message: 'you kept your simulation: the link was not opened', tone: 'info' };
    return;
  }
  const stepCount = sim.scenario?.stepCount ?? 0;
  if (link.step !== undefined && link.step > stepCount) {
    sim.travel.linkProblem = { message: `the link asks for step ${link.step}, but its scenario has ${stepCount} steps: it is shown at its end`, tone: 'info' };
  } else {
    sim.toast({ tone: 'info', title: `Opened the link: ${name}`, detail: link.step === undefined ? 'at its start' : `at step ${link.step} of ${stepCount}` });
  }
}
