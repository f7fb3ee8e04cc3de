import * as v from "valibot";

/**
 * Which characters a text field may hold. Both the REST validators and the socket's frame
 * validators use these, so a value is refused the same way whichever way it arrives.
 *
 * NUL cannot be stored in a PostgreSQL `text` column at all (the query fails, and with it the
 * request); the other C0 and C1 controls and DEL are never typed by a person, break log lines and
 * terminals, and hide text in the UI. Multi-line text (a message body, a bio) keeps tab, line
 * feed and carriage return; a one-line value (a name, a username, an id) keeps none of them.
 * Ranges: https://www.unicode.org/charts/PDF/U0000.pdf and U0080.pdf.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this rule's job.
const CONTROL_IN_MULTI_LINE_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this rule's job.
const CONTROL_IN_SINGLE_LINE_TEXT = /[\u0000-\u001F\u007F-\u009F]/;

export const CONTROL_CHARACTER_MESSAGE = "must not contain NUL or other control characters";
export const LINE_BREAK_MESSAGE = "must be one line without NUL, tab or other control characters";

/** A valibot check for text that may span lines (tab, LF and CR allowed). */
export const multiLineText = () => v.check((value: string) => !CONTROL_IN_MULTI_LINE_TEXT.test(value), CONTROL_CHARACTER_MESSAGE);

/** A valibot check for a one-line value: no control character at all. */
export const singleLineText = () => v.check((value: string) => !CONTROL_IN_SINGLE_LINE_TEXT.test(value), LINE_BREAK_MESSAGE);
