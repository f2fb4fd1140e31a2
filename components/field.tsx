/** A labelled form field with its error message beside it. */
import type { ComponentChildren } from "preact";

export interface FieldProps {
  id: string;
  label: string;
  error?: string | null;
  hint?: string;
  children: ComponentChildren;
}

export function Field({ id, label, error, hint, children }: FieldProps) {
  return (
    <div class={error ? "field field-error" : "field"}>
      <label for={id}>{label}</label>
      {children}
      {hint && <small class="hint">{hint}</small>}
      {error && <p class="error" id={`${id}-error`} role="alert">{error}</p>}
    </div>
  );
}

export function TextField(
  props: {
    id: string;
    name: string;
    label: string;
    value?: string;
    error?: string | null;
    hint?: string;
    type?: string;
    required?: boolean;
    placeholder?: string;
    autocomplete?: string;
  },
) {
  return (
    <Field id={props.id} label={props.label} error={props.error} hint={props.hint}>
      <input
        id={props.id}
        name={props.name}
        type={props.type ?? "text"}
        value={props.value ?? ""}
        required={props.required}
        placeholder={props.placeholder}
        autocomplete={props.autocomplete}
        aria-invalid={props.error ? "true" : undefined}
        aria-describedby={props.error ? `${props.id}-error` : undefined}
      />
    </Field>
  );
}

/** The hidden CSRF field every form carries. */
export function Csrf({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />;
}

/**
 * A delete form that asks for a ticked confirmation box (checked on the server too), with
 * the CSRF token like every form.
 */
export function DangerZone(props: {
  action: string;
  csrf: string;
  title: string;
  confirm: string;
  button: string;
}) {
  return (
    <form method="post" action={props.action} class="danger-zone">
      <Csrf token={props.csrf} />
      <h2>{props.title}</h2>
      <label class="check">
        <input type="checkbox" name="confirm" value="1" required /> {props.confirm}
      </label>
      <button type="submit" class="danger">{props.button}</button>
    </form>
  );
}

/** Header names and values as a read-only table (a run's response, an inbound event). */
export function HeadersTable(props: { headers: Record<string, string> }) {
  return (
    <table class="headers">
      <tbody>
        {Object.entries(props.headers).map(([name, value]) => (
          <tr>
            <th>{name}</th>
            <td>
              <code>{value}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
