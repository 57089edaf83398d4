/**
 * The app's look: dark, light, or as the system is set. The choice is kept in this window's
 * storage; what it comes to is written on <html data-theme="dark|light">, which styles.css reads.
 * A change applies at once, in every open tab, and "system" follows the system as it changes.
 */

export type ThemeChoice = 'dark' | 'light' | 'system';
export type Theme = 'dark' | 'light';

export const THEME_SETTING = 'bitstable.theme';
export const THEME_CHOICES: readonly ThemeChoice[] = ['dark', 'light', 'system'];
/** Dark until chosen otherwise: the app's look before there was a choice. */
export const DEFAULT_THEME: ThemeChoice = 'dark';

const PREFERS_LIGHT = '(prefers-color-scheme: light)';

function isThemeChoice(v: unknown): v is ThemeChoice {
  return THEME_CHOICES.includes(v as ThemeChoice);
}

/** The saved choice, or the default when none (or something unknown) is saved. */
export function savedTheme(): ThemeChoice {
  try {
    const v = localStorage.getItem(THEME_SETTING);
    return isThemeChoice(v) ? v : DEFAULT_THEME;
  } catch {
    // Storage can be refused (a locked-down profile): the default, rather than no page.
    return DEFAULT_THEME;
  }
}

/** What a choice comes to, given whether the system prefers light. */
export function resolveTheme(choice: ThemeChoice, systemPrefersLight: boolean): Theme {
  if (choice === 'system') return systemPrefersLight ? 'light' : 'dark';
  return choice;
}

let choice: ThemeChoice = DEFAULT_THEME;
const listeners = new Set<() => void>();

function apply(): void {
  const theme = resolveTheme(choice, window.matchMedia(PREFERS_LIGHT).matches);
  document.documentElement.dataset.theme = theme;
  for (const listener of listeners) listener();
}

/** The choice in force in this window. */
export function themeChoice(): ThemeChoice {
  return choice;
}

/** Saves a choice and applies it now. */
export function setTheme(next: ThemeChoice): void {
  choice = next;
  try {
    localStorage.setItem(THEME_SETTING, next);
  } catch {
    // Not kept across a restart, but in force until then.
  }
  apply();
}

/** Calls `listener` whenever the choice, or what it comes to, changes; returns how to stop. */
export function subscribeTheme(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

let started = false;

/**
 * Applies the saved choice, then follows the system (for "system") and choices made in other
 * tabs. Called first thing in main.tsx, so the first paint is already in the right theme.
 */
export function startTheme(): void {
  choice = savedTheme();
  apply();
  if (started) return;
  started = true;
  window.matchMedia(PREFERS_LIGHT).addEventListener('change', apply);
  window.addEventListener('storage', (e) => {
    if (e.key !== THEME_SETTING && e.key !== null) return;
    choice = savedTheme();
    apply();
  });
}
