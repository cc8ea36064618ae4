#pragma once

#include <QByteArray>
#include <QList>

#include <optional>
#include <utility>

namespace Onboarder::Sandbox {

// Follows the requests of one HTTP/1.1 connection through its bytes, as they arrive, without keeping
// them: where each request's head ends, what it says (method, target, headers) and how many body bytes
// follow (Content-Length), so that each request can be judged on its head before its body is read.
// Bodies of unknown length (Transfer-Encoding) are not followed: such a request is an error
// (LengthRequired), as is a head larger than headLimit or one that is no HTTP/1.x request head.
// After an error, feed() takes nothing more.
class HttpRequestFraming final
{
public:
    static constexpr qsizetype headLimit = 16 * 1024;

    struct Head
    {
        QByteArray method;
        QByteArray target;
        QList<std::pair<QByteArray, QByteArray>> headers; // names as sent, values trimmed
        qint64 contentLength = 0;

        // The first header of that name (case-insensitive); empty when absent.
        QByteArray value(const QByteArray &name) const;
    };

    enum class Error { None, BadRequest, HeadTooLarge, LengthRequired };

    // The heads completed by these bytes, in order. Bytes of a body are counted and passed over.
    QList<Head> feed(const QByteArray &bytes);

    Error error() const { return m_error; }
    // Body bytes of the last head still to come.
    qint64 bodyRemaining() const { return m_bodyRemaining; }

    static std::optional<Head> parseHead(const QByteArray &head, Error *error);

private:
    QByteArray m_head; // the current head so far
    qint64 m_bodyRemaining = 0;
    Error m_error = Error::None;
};

} // namespace Onboarder::Sandbox
