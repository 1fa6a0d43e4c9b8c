import { api, APIError, Me, session } from "../api";
import { h } from "../dom";
import { navigate } from "../router";
import type { Page } from "../router";

export const signIn: Page = (root, _p, q) => {
  const input = h("input#token", {
    type: "password",
    name: "token",
    autocomplete: "current-password",
    required: true,
    placeholder: "hr_…",
    spellcheck: "false",
  });
  const msg = h("p.error", { role: "alert" });
  const form = h(
    "form.card.narrow",
    {
      onsubmit: async (e: Event) => {
        e.preventDefault();
        msg.textContent = "";
        const token = input.value.trim();
        try {
          const me = await api<Me>("/me", { token });
          session.token = token;
          session.me = me;
          const next = q.get("next");
          navigate(next && next.startsWith("/") && !next.startsWith("/signin") ? next : "/jobs", true);
        } catch (err) {
          msg.textContent =
            err instanceof APIError && err.status === 401 ? "That token is not known to this server." : `Sign-in failed: ${(err as Error).message}`;
        }
      },
    },
    h("h1", "Sign in"),
    h("p.muted", "Paste an API token (", h("code", "headroom token create"), " prints one)."),
    h("label", { for: "token" }, "Token"),
    input,
    msg,
    h("button.primary", { type: "submit" }, "Sign in"),
  );
  root.append(form);
  input.focus();
};
