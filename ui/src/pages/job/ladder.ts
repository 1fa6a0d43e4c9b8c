// The job page's step ladder: the study's steps from the API, then the stream's.
import { api, Get } from "../../api";
import { clear } from "../../dom";
import { ladder } from "../ladder";
import type { JobState } from "./state";

// loadSteps adds the steps the server holds.
export async function loadSteps(st: JobState): Promise<void> {
  try {
    const d = await api<Get<"/jobs/{id}/steps">>(`/jobs/${st.id}/steps`);
    for (const s of d.steps ?? []) st.addStep(s);
  } catch {
    /* the stream brings them */
  }
}

export function renderLadder(box: HTMLElement, st: JobState): void {
  if (!st.isStudy) return;
  clear(box, ladder([...st.steps.values()], st.job, st.bracket));
}
