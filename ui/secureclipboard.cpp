#include "secureclipboard.h"

#include "common/settings.h"

#include <QClipboard>
#include <QCoreApplication>
#include <QCryptographicHash>
#include <QGuiApplication>
#include <QMimeData>
#include <QTimer>

namespace Onboarder {

namespace {

QByteArray hashOf(const QString &text)
{
    return QCryptographicHash::hash(text.toUtf8(), QCryptographicHash::Sha256);
}

} // namespace

SecureClipboard::SecureClipboard(Settings &settings, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_timer(new QTimer(this))
{
    m_timer->setSingleShot(true);
    connect(m_timer, &QTimer::timeout, this, &SecureClipboard::clearIfOurs);
    connect(qApp, &QCoreApplication::aboutToQuit, this, &SecureClipboard::clearIfOurs);
}

SecureClipboard::~SecureClipboard()
{
    clearIfOurs();
}

int SecureClipboard::clearAfterSeconds() const
{
    return m_settings.clipboardClearSeconds();
}

void SecureClipboard::copy(const QString &secret)
{
    auto *mime = new QMimeData;
    mime->setText(secret);
    // KDE Klipper, GPaste and others skip entries with this hint instead of keeping them in their history.
    mime->setData(QStringLiteral("x-kde-passwordManagerHint"), QByteArrayLiteral("secret"));
    QGuiApplication::clipboard()->setMimeData(mime);
    m_hash = hashOf(secret);
    m_timer->start(clearAfterSeconds() * 1000);
}

bool SecureClipboard::holdsOurValue() const
{
    return !m_hash.isEmpty() && hashOf(QGuiApplication::clipboard()->text()) == m_hash;
}

void SecureClipboard::clearIfOurs()
{
    if (m_hash.isEmpty())
        return;
    m_timer->stop();
    const bool ours = holdsOurValue();
    m_hash.clear();
    if (ours) {
        QGuiApplication::clipboard()->clear();
        Q_EMIT cleared();
    } else {
        Q_EMIT replaced();
    }
}

} // namespace Onboarder
