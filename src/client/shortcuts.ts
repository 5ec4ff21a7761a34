/** The call's keyboard shortcuts: one key each, no modifier, never while typing in a field. */
export const SHORTCUTS = [
  { key: 'm', action: 'toggleMic', label: 'Mute or unmute your microphone' },
  { key: 'v', action: 'toggleCamera', label: 'Turn your camera on or off' },
  { key: 's', action: 'toggleScreen', label: 'Share your screen, or stop' },
  { key: 'c', action: 'toggleChat', label: 'Open or close the chat' },
  { key: 'p', action: 'togglePeople', label: 'Open or close the participant list' },
  { key: 'h', action: 'toggleHand', label: 'Raise or lower your hand' },
  { key: 'l', action: 'toggleLayout', label: 'Switch between grid and spotlight' },
  { key: '?', action: 'toggleHelp', label: 'Show these shortcuts' },
] as const;

export type ShortcutAction = (typeof SHORTCUTS)[number]['action'];

/** Whether a key press happens while the person types (a field, an editable element): then it is text, not a shortcut. */
export function isTyping(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  if (!element || typeof element.closest !== 'function') return false;
  if (element.isContentEditable) return true;
  return element.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"]') !== null;
}

/** The action a key press stands for, or undefined (a modifier held, typing, or not a shortcut). */
export function shortcutFor(event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey' | 'target' | 'repeat'>): ShortcutAction | undefined {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || isTyping(event.target)) return undefined;
  return SHORTCUTS.find((s) => s.key === event.key.toLowerCase() || s.key === event.key)?.action;
}
