#pragma once

#include <QByteArray>
#include <QObject>

class QTimer;

namespace Onboarder {

class Settings;

// Copies a secret (a connection string, a key) to the clipboard so that it does not stay there:
// marked for clipboard managers as a password (x-kde-passwordManagerHint: secret, so that they do not
// keep a history of it), and cleared after the configured time (settings, default 30 s) or when the
// application quits, but only if the clipboard still holds that value: something the user copied
// meanwhile is left alone. Only a hash of the secret is kept here, not the secret.
class SecureClipboard final : public QObject
{
    Q_OBJECT

public:
    explicit SecureClipboard(Settings &settings, QObject *parent = nullptr);
    ~SecureClipboard() override;

    void copy(const QString &secret);
    int clearAfterSeconds() const;
    bool holdsOurValue() const; // the clipboard has what we put there, not cleared yet

Q_SIGNALS:
    void cleared(); // we removed our value
    void replaced(); // the user copied something else; nothing left to clear

private:
    void clearIfOurs();

    Settings &m_settings;
    QTimer *m_timer;
    QByteArray m_hash; // SHA-256 of what we copied; empty: nothing pending
};

} // namespace Onboarder
