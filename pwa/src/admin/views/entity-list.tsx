/** The list screens of speakers, rooms and tracks: search, a table, and delete with the server's refusal shown. */

import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";

import { ApiError } from "../api";
import { deleteEntity } from "../entities";
import { programme } from "../programme";
import { editPath, type Kind } from "../router";
import { s } from "../strings";
import { confirmAction } from "../ui/dialog";
import { focusAfterRemoval, matches, Page, Problem, SearchBox } from "../ui/page";
import { announce } from "../ui/status";
import { ProgrammeGate } from "./programme-gate";

export interface Column<T> {
  label: string;
  cell: (item: T) => ComponentChildren;
}

interface ListProps<T extends { id: string; name: string }> {
  kind: Exclude<Kind, "sessions">;
  title: string;
  newLabel: string;
  searchLabel: string;
  items: (data: NonNullable<typeof programme.value>) => readonly T[];
  searchText: (item: T) => (string | null | undefined)[];
  columns: readonly Column<T>[];
  /** Shown as the name cell's extra (a badge). */
  badge?: (item: T) => ComponentChildren;
  deleteText?: string;
  /** "3 rooms": the count of rows shown, in the console's language. */
  countText: (n: number) => string;
}

/** How many sessions use an entity (speaker, room or track). */
export function usage(kind: Exclude<Kind, "sessions">, id: string): number {
  const sessions = programme.value?.sessions ?? [];
  if (kind === "speakers") return sessions.filter((session) => session.speakerIds?.includes(id)).length;
  if (kind === "rooms") return sessions.filter((session) => session.roomId === id).length;
  return sessions.filter((session) => session.trackId === id).length;
}

export function EntityList<T extends { id: string; name: string }>(props: ListProps<T>) {
  const [query, setQuery] = useState("");
  const [problem, setProblem] = useState<string | null>(null);

  const remove = async (item: T) => {
    const ok = await confirmAction({ title: s.confirmDeleteTitle(item.name), text: props.deleteText ?? s.confirmDeleteText, confirm: s.delete });
    if (!ok) return;
    try {
      await deleteEntity(props.kind, item.id);
      setProblem(null);
      announce(s.deleted(item.name));
      focusAfterRemoval();
    } catch (error) {
      setProblem(error instanceof ApiError ? error.detail : String(error));
    }
  };

  return (
    <Page
      title={props.title}
      actions={
        <a class="button button-primary" href={editPath(props.kind, null)}>
          {props.newLabel}
        </a>
      }
    >
      <ProgrammeGate>
        {() => {
          const shown = props.items(programme.value!).filter((item) => matches(query, ...props.searchText(item)));
          return (
            <>
              {problem && <Problem>{problem}</Problem>}
              <div class="list-tools">
                <SearchBox label={props.searchLabel} value={query} onValue={setQuery} />
                <p class="muted" role="status">
                  {props.countText(shown.length)}
                </p>
              </div>
              {shown.length === 0 ? (
                <p class="empty">{s.noMatches}</p>
              ) : (
                <div class="table-wrap">
                  <table class="table">
                    <caption class="visually-hidden">{props.title}</caption>
                    <thead>
                      <tr>
                        <th scope="col">{s.colName}</th>
                        {props.columns.map((column) => (
                          <th scope="col" key={column.label}>
                            {column.label}
                          </th>
                        ))}
                        <th scope="col">
                          <span class="visually-hidden">{s.colActions}</span>
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {shown.map((item) => (
                        <tr key={item.id}>
                          <td>
                            <a class="row-title" href={editPath(props.kind, item.id)}>
                              {item.name}
                            </a>
                            {props.badge?.(item)}
                          </td>
                          {props.columns.map((column) => (
                            <td key={column.label}>{column.cell(item)}</td>
                          ))}
                          <td class="row-actions">
                            <button type="button" class="button button-small button-danger-quiet" aria-label={s.deleteNamed(item.name)} onClick={() => void remove(item)}>
                              {s.delete}
                            </button>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </>
          );
        }}
      </ProgrammeGate>
    </Page>
  );
}
