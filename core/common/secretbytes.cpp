#include "secretbytes.h"

#include <QByteArray>
#include <QDebug>
#include <QString>

#include <cstring>
#include <openssl/crypto.h>
#include <utility>

namespace Onboarder {

std::atomic<SecretBytes::WipeObserver> SecretBytes::s_wipeObserver{nullptr};

SecretBytes::SecretBytes(QByteArrayView bytes)
{
    if (bytes.isEmpty())
        return;
    m_data = std::make_unique<char[]>(size_t(bytes.size()) + 1);
    std::memcpy(m_data.get(), bytes.data(), size_t(bytes.size()));
    m_data[size_t(bytes.size())] = '\0';
    m_size = bytes.size();
}

SecretBytes::~SecretBytes()
{
    wipe();
}

SecretBytes::SecretBytes(SecretBytes &&other) noexcept
    : m_data(std::move(other.m_data))
    , m_size(std::exchange(other.m_size, 0))
{ }

SecretBytes::SecretBytes(const SecretBytes &other)
    : SecretBytes(other.view())
{ }

SecretBytes &SecretBytes::operator=(const SecretBytes &other)
{
    if (this != &other)
        *this = SecretBytes(other.view());
    return *this;
}

SecretBytes &SecretBytes::operator=(SecretBytes &&other) noexcept
{
    if (this != &other) {
        wipe();
        m_data = std::move(other.m_data);
        m_size = std::exchange(other.m_size, 0);
    }
    return *this;
}

void SecretBytes::cleanse(void *buffer, size_t length) noexcept
{
    if (!buffer || length == 0)
        return;
    OPENSSL_cleanse(buffer, length);
    if (const WipeObserver observer = s_wipeObserver.load(std::memory_order_relaxed))
        observer(static_cast<const char *>(buffer), qsizetype(length));
}

void SecretBytes::wipe() noexcept
{
    if (!m_data)
        return;
    cleanse(m_data.get(), size_t(m_size) + 1);
    m_data.reset();
    m_size = 0;
}

void SecretBytes::clear() noexcept
{
    wipe();
}

SecretBytes SecretBytes::fromQByteArray(QByteArray &&bytes)
{
    SecretBytes secret(QByteArrayView(bytes.constData(), bytes.size()));
    if (bytes.isDetached()) {
        // The only owner: wipe everything the buffer holds past data(), including what chop() left after size().
        // data_ptr() does not detach.
        auto &buffer = bytes.data_ptr();
        cleanse(buffer.data(), size_t(buffer.size + buffer.freeSpaceAtEnd()));
    }
    bytes = QByteArray();
    return secret;
}

SecretBytes SecretBytes::fromString(QString &&text)
{
    SecretBytes secret = fromQByteArray(text.toUtf8());
    if (text.isDetached()) {
        auto &buffer = text.data_ptr();
        cleanse(buffer.data(), size_t(buffer.size + buffer.freeSpaceAtEnd()) * sizeof(char16_t));
    }
    text = QString();
    return secret;
}

SecretBytes SecretBytes::fromView(QByteArrayView bytes)
{
    return SecretBytes(bytes);
}

SecretBytes SecretBytes::copy() const
{
    return SecretBytes(view());
}

QByteArray SecretBytes::exposeForWire() const
{
    return m_size > 0 ? QByteArray(data(), m_size) : QByteArray(); // empty: null, as a QByteArray() was
}

QString SecretBytes::exposeAsString() const
{
    return m_size > 0 ? QString::fromUtf8(data(), m_size) : QString();
}

bool operator==(const SecretBytes &a, const SecretBytes &b) noexcept
{
    if (a.size() != b.size())
        return false;
    return CRYPTO_memcmp(a.data(), b.data(), size_t(a.size())) == 0;
}

QDebug operator<<(QDebug debug, const SecretBytes &secret)
{
    const QDebugStateSaver saver(debug);
    debug.nospace().noquote() << "SecretBytes(" << secret.size() << " bytes, redacted)";
    return debug;
}

} // namespace Onboarder
