/** Share a page of the app: the system's share sheet where there is one, else the link copied. */

import { useState } from "preact/hooks";

import { t } from "../prefs";
import { ShareIcon } from "../ui/icons";

export function ShareButton({ title }: { title: string }) {
  const [said, setSaid] = useState("");
  const share = async () => {
    const url = window.location.href.split("#")[0]!;
    if (typeof navigator.share === "function") {
      try {
        await navigator.share({ title, url });
        return;
      } catch (error) {
        // The attendee closed the sheet: nothing to do. Any other refusal falls back to copying.
        if ((error as DOMException).name === "AbortError") return;
      }
    }
    try {
      await navigator.clipboard.writeText(url);
      setSaid(t.value.linkCopied);
    } catch {
      // No clipboard either (an insecure origin): select the address for the attendee to copy.
      setSaid(url);
    }
  };
  return (
    <>
      <button type="button" class="button button-quiet" onClick={() => void share()}>
        <ShareIcon />
        {t.value.share}
      </button>
      <span class="share-said" role="status">
        {said}
      </span>
    </>
  );
}
