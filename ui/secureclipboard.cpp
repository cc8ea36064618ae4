#include "secureclipboard.h"

#include "common/logging.h"

#include <QClipboard>
#include <QCryptographicHash>
#include <QMimeData>

namespace Onboarder {

namespace {

QByteArray digestOf(const QString &text)
{
    return QCryptographicHash::hash(text.toUtf8(), QCryptographicHash::Sha256);
}

} // namespace

SecureClipboard::SecureClipboard(QClipboard *clipboard, QObject *parent)
    : QObject(parent)
    , m_clipboard(clipboard)
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &SecureClipboard::clearIfStillOurs);
}

SecureClipboard::~SecureClipboard()
{
    if (m_timer.isActive() && holdsOurSecret())
        m_clipboard->clear();
}

void SecureClipboard::setClearAfterSeconds(int seconds)
{
    m_clearAfterSeconds = qBound(1, seconds, 3600);
}

void SecureClipboard::copySecret(const QString &secret)
{
    auto *data = new QMimeData;
    data->setText(secret);
    data->setData(passwordManagerHintFormat(), QByteArrayLiteral("secret"));
    m_digest = digestOf(secret);
    m_clipboard->setMimeData(data); // the clipboard owns it
    m_timer.start(m_clearAfterSeconds * 1000);
    qCDebug(lcUi) << "secret copied; clipboard clears in" << m_clearAfterSeconds << "s";
    Q_EMIT copied(m_clearAfterSeconds);
}

bool SecureClipboard::holdsOurSecret() const
{
    return !m_digest.isEmpty() && digestOf(m_clipboard->text()) == m_digest;
}

void SecureClipboard::clearIfStillOurs()
{
    const bool ours = holdsOurSecret();
    m_digest.clear();
    if (!ours) {
        qCDebug(lcUi) << "clipboard changed meanwhile; left alone";
        Q_EMIT leftAlone();
        return;
    }
    m_clipboard->clear();
    qCDebug(lcUi) << "secret cleared from the clipboard";
    Q_EMIT cleared();
}

} // namespace Onboarder
