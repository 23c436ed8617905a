"""One module per delivery channel. Each turns a rendered step into its side effect."""
