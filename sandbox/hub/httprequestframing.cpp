#include "httprequestframing.h"

namespace Onboarder::Sandbox {

QByteArray HttpRequestFraming::Head::value(const QByteArray &name) const
{
    for (const auto &[header, headerValue] : headers) {
        if (header.compare(name, Qt::CaseInsensitive) == 0)
            return headerValue;
    }
    return {};
}

std::optional<HttpRequestFraming::Head> HttpRequestFraming::parseHead(const QByteArray &bytes, Error *error)
{
    *error = Error::BadRequest;
    QList<QByteArray> lines = bytes.split('\n');
    for (QByteArray &line : lines) {
        if (line.endsWith('\r'))
            line.chop(1);
    }
    // RFC 9112 §2.2: empty lines before the request line are ignored.
    while (!lines.isEmpty() && lines.first().isEmpty())
        lines.removeFirst();
    if (lines.isEmpty())
        return std::nullopt;
    const QList<QByteArray> requestLine = lines.first().split(' ');
    if (requestLine.size() != 3 || requestLine.at(0).isEmpty() || requestLine.at(1).isEmpty()
        || !requestLine.at(2).startsWith("HTTP/1."))
        return std::nullopt;
    Head head;
    head.method = requestLine.at(0);
    head.target = requestLine.at(1);
    std::optional<qint64> length;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray &line = lines.at(i);
        if (line.isEmpty())
            continue;
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0 || line.at(colon - 1) == ' ' || line.at(colon - 1) == '\t')
            return std::nullopt; // no name, or whitespace before the colon (RFC 9112 §5.1)
        const QByteArray name = line.left(colon);
        const QByteArray value = line.mid(colon + 1).trimmed();
        head.headers.append({name, value});
        if (name.compare("transfer-encoding", Qt::CaseInsensitive) == 0) {
            *error = Error::LengthRequired;
            return std::nullopt;
        }
        if (name.compare("content-length", Qt::CaseInsensitive) == 0) {
            bool ok = value.size() <= 18;
            for (char c : value)
                ok = ok && c >= '0' && c <= '9';
            if (!ok || value.isEmpty() || (length && *length != value.toLongLong()))
                return std::nullopt; // not a number, or two that differ (a smuggling attempt)
            length = value.toLongLong();
        }
    }
    head.contentLength = length.value_or(0);
    *error = Error::None;
    return head;
}

QList<HttpRequestFraming::Head> HttpRequestFraming::feed(const QByteArray &bytes)
{
    QList<Head> heads;
    qsizetype pos = 0;
    while (m_error == Error::None && pos < bytes.size()) {
        if (m_bodyRemaining > 0) {
            const qint64 take = std::min<qint64>(m_bodyRemaining, bytes.size() - pos);
            m_bodyRemaining -= take;
            pos += take;
            continue;
        }
        // The head ends at an empty line; its end may straddle two feeds.
        const qsizetype kept = m_head.size();
        m_head += bytes.mid(pos, headLimit + 4 - kept);
        const qsizetype end = m_head.indexOf("\r\n\r\n", std::max<qsizetype>(0, kept - 3));
        if (end < 0) {
            // Only a full head's worth without its end is too large: a shorter one may end in the next feed.
            if (m_head.size() >= headLimit + 4)
                m_error = Error::HeadTooLarge;
            pos = bytes.size();
            break;
        }
        if (end > headLimit) {
            m_error = Error::HeadTooLarge;
            break;
        }
        pos += end + 4 - kept;
        Error error = Error::None;
        auto head = parseHead(m_head.left(end), &error);
        m_head.clear();
        if (!head) {
            m_error = error;
            break;
        }
        m_bodyRemaining = head->contentLength;
        heads.append(*head);
    }
    return heads;
}

} // namespace Onboarder::Sandbox
