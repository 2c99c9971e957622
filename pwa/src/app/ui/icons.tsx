/** Kumpul's line icons: decorative (hidden from assistive technology), sized by the surrounding text. */

import type { ComponentChildren } from "preact";

function Icon({ children }: { children: ComponentChildren }) {
  return (
    <svg
      class="icon"
      viewBox="0 0 24 24"
      aria-hidden="true"
      focusable="false"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
    >
      {children}
    </svg>
  );
}

export const ClockIcon = () => (
  <Icon>
    <circle cx="12" cy="12" r="9" />
    <path d="M12 7v5l3 2" />
  </Icon>
);

export const CalendarIcon = () => (
  <Icon>
    <rect x="3.5" y="5" width="17" height="15" rx="2" />
    <path d="M3.5 10h17M8 3v4M16 3v4M7.5 14h3M13.5 14h3M7.5 17h3" />
  </Icon>
);

export const PeopleIcon = () => (
  <Icon>
    <circle cx="9" cy="8" r="3.5" />
    <path d="M2.5 20c.6-3.6 3.2-5.5 6.5-5.5s5.9 1.9 6.5 5.5" />
    <path d="M15.5 4.8a3.3 3.3 0 0 1 0 6.4M18 14.8c1.9.7 3.1 2.4 3.5 5.2" />
  </Icon>
);

export const BookmarkIcon = ({ filled = false }: { filled?: boolean }) => (
  <Icon>
    <path d="M6.5 3.5h11v17l-5.5-4-5.5 4z" fill={filled ? "currentColor" : "none"} />
  </Icon>
);

export const MegaphoneIcon = () => (
  <Icon>
    <path d="M3.5 10v4h3l8 5V5l-8 5z" />
    <path d="M18 9a4 4 0 0 1 0 6M7.5 14.5l1.5 5h2.5l-1-4.5" />
  </Icon>
);

export const InfoIcon = () => (
  <Icon>
    <circle cx="12" cy="12" r="9" />
    <path d="M12 11v6M12 7.5v.5" />
  </Icon>
);

export const GlobeIcon = () => (
  <Icon>
    <circle cx="12" cy="12" r="9" />
    <path d="M3 12h18M12 3c2.5 2.6 3.7 5.6 3.7 9s-1.2 6.4-3.7 9c-2.5-2.6-3.7-5.6-3.7-9S9.5 5.6 12 3z" />
  </Icon>
);

export const LiveIcon = () => (
  <Icon>
    <circle cx="12" cy="12" r="2.5" fill="currentColor" />
    <path d="M8 8a5.5 5.5 0 0 0 0 8M16 8a5.5 5.5 0 0 1 0 8M5 5a10 10 0 0 0 0 14M19 5a10 10 0 0 1 0 14" />
  </Icon>
);

export const WarningIcon = () => (
  <Icon>
    <path d="M12 3.5 2.5 20h19z" />
    <path d="M12 10v4.5M12 17.3v.2" />
  </Icon>
);

export const ChangesIcon = () => (
  <Icon>
    <path d="M4 8h13l-3-3M20 16H7l3 3" />
  </Icon>
);

export const NoCameraIcon = () => (
  <Icon>
    <path d="M9 5h6l1.5 2H20a1 1 0 0 1 1 1v9M16 19H4a1 1 0 0 1-1-1V8a1 1 0 0 1 1-1h3" />
    <path d="M9.8 10.3a3 3 0 0 0 4 4M3 3l18 18" />
  </Icon>
);

export const HeadphonesIcon = () => (
  <Icon>
    <path d="M4 15v-3a8 8 0 0 1 16 0v3" />
    <rect x="3.5" y="14" width="4" height="6" rx="1.5" />
    <rect x="16.5" y="14" width="4" height="6" rx="1.5" />
  </Icon>
);

export const PinIcon = () => (
  <Icon>
    <path d="M12 21s6.5-6.1 6.5-11.5a6.5 6.5 0 0 0-13 0C5.5 14.9 12 21 12 21z" />
    <circle cx="12" cy="9.5" r="2.3" />
  </Icon>
);

export const SearchIcon = () => (
  <Icon>
    <circle cx="10.5" cy="10.5" r="6.5" />
    <path d="m15.5 15.5 5 5" />
  </Icon>
);

export const CloseIcon = () => (
  <Icon>
    <path d="M6 6l12 12M18 6 6 18" />
  </Icon>
);

export const CheckIcon = () => (
  <Icon>
    <path d="m4.5 12.5 5 5 10-11" />
  </Icon>
);

/** Kumpul's mark: people gathered in a circle around a centre. */
export const Logo = () => (
  <svg class="logo" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
    <rect width="32" height="32" rx="8" fill="var(--brand)" />
    <g fill="var(--on-brand)">
      <circle cx="16" cy="16" r="3.6" />
      <circle cx="16" cy="6.8" r="2.6" />
      <circle cx="24.75" cy="13.15" r="2.6" />
      <circle cx="21.4" cy="23.45" r="2.6" />
      <circle cx="10.6" cy="23.45" r="2.6" />
      <circle cx="7.25" cy="13.15" r="2.6" />
    </g>
  </svg>
);

export const FilterIcon = () => (
  <Icon>
    <path d="M4 6h16M7 12h10M10 18h4" />
  </Icon>
);

export const ShareIcon = () => (
  <Icon>
    <path d="M12 3v12M7.5 7.5 12 3l4.5 4.5M5 13v6a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2v-6" />
  </Icon>
);
