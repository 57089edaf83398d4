/** Settings → Appearance: dark, light, or as the system is set; applied at once, kept per window. */
import { useSyncExternalStore } from 'react';
import { setTheme, subscribeTheme, themeChoice, type ThemeChoice } from '../lib/theme';
import { Card } from './ui';

const OPTIONS: { value: ThemeChoice; label: string }[] = [
  { value: 'dark', label: 'Dark' },
  { value: 'light', label: 'Light' },
  { value: 'system', label: 'Follow the system' },
];

const shownTheme = () => document.documentElement.dataset.theme ?? 'dark';

export function ThemeCard() {
  const choice = useSyncExternalStore(subscribeTheme, themeChoice);
  // What "Follow the system" comes to right now, said beside the choice.
  const shown = useSyncExternalStore(subscribeTheme, shownTheme);
  return (
    <Card title="Appearance" testId="settings-theme">
      <fieldset className="theme-choice" aria-describedby="theme-note">
        <legend>Theme</legend>
        {OPTIONS.map((o) => (
          <label key={o.value} className="check">
            <input
              type="radio"
              name="theme"
              value={o.value}
              checked={choice === o.value}
              onChange={() => setTheme(o.value)}
              data-testid={`theme-${o.value}`}
            />
            <span>{o.label}</span>
          </label>
        ))}
      </fieldset>
      <p className="muted small" id="theme-note" data-testid="theme-note" data-shown={shown}>
        {choice === 'system'
          ? `Your system is set to ${shown} now; BitStable changes with it.`
          : 'Applies at once, and is kept for the next start.'}
      </p>
    </Card>
  );
}
