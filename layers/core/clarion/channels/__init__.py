"""One module per delivery channel. Each turns a rendered step into its side effect.

The engine calls `dispatch.send` for email, sms, chat, push and webhook steps and gets a
`Delivery` back; `in_app` stores the message itself. `outbound` is the only way out to a URL
that user data chose (SSRF-checked, pinned to the checked address, no redirects).
"""
