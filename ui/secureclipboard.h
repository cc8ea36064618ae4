#pragma once

#include <QByteArray>
#include <QObject>
#include <QTimer>

class QClipboard;

namespace Onboarder {

// Copies a secret (a connection string, a key) to the clipboard so that it does not linger:
//  - the data carries the MIME type "x-kde-passwordManagerHint" = "secret", which clipboard managers
//    (Klipper, GPaste, CopyQ…) take as "do not keep in the history";
//  - after clearAfterSeconds() (default 30, Settings::clipboardClearSeconds) it clears the clipboard —
//    but only if it still holds our value; whatever the user copied meanwhile is left alone.
// Only a digest of the secret is kept for that comparison, not the secret itself.
class SecureClipboard final : public QObject
{
    Q_OBJECT

public:
    static constexpr int defaultClearSeconds = 30;
    static QString passwordManagerHintFormat() { return QStringLiteral("x-kde-passwordManagerHint"); }

    explicit SecureClipboard(QClipboard *clipboard, QObject *parent = nullptr);
    ~SecureClipboard() override; // clears the clipboard if it still holds our secret

    int clearAfterSeconds() const { return m_clearAfterSeconds; }
    void setClearAfterSeconds(int seconds); // 1–3600

    void copySecret(const QString &secret);
    bool isPending() const { return m_timer.isActive(); } // a clear is scheduled
    bool holdsOurSecret() const;

Q_SIGNALS:
    void cleared(); // the clipboard still held our secret and was cleared
    void leftAlone(); // at the deadline the clipboard held something else: not touched
    void copied(int clearAfterSeconds);

private:
    void clearIfStillOurs();

    QClipboard *m_clipboard;
    QTimer m_timer;
    QByteArray m_digest; // SHA-256 of the secret's UTF-8 text
    int m_clearAfterSeconds = defaultClearSeconds;
};

} // namespace Onboarder
