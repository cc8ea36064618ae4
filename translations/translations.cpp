// Holds the compiled translations (.qm) as resources under :/i18n.
