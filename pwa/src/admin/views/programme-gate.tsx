/** Shows its content once the programme is loaded; a loading line or the failure (with a retry) before. */

import type { ComponentChildren } from "preact";

import { loadProgramme, programme, programmeError } from "../programme";
import { s } from "../strings";
import { Problem } from "../ui/page";

export function ProgrammeGate({ children }: { children: () => ComponentChildren }) {
  if (programme.value) return <>{children()}</>;
  if (programmeError.value) {
    return (
      <Problem>
        <p>
          {s.programmeMissing} {programmeError.value}
        </p>
        <button type="button" class="button" onClick={() => void loadProgramme()}>
          {s.tryAgain}
        </button>
      </Problem>
    );
  }
  return <p class="loading">{s.loading}</p>;
}
