#include "dpsmqttsession.h"

#include "mqttwire.h"

#include <QUrl>
#include <QUrlQuery>

#include <optional>

namespace Onboarder::Sandbox {

using namespace MqttWire;

namespace {

QByteArray packet(quint8 header, const QByteArray &body)
{
    return char(header) + varint(body.size()) + body;
}

QByteArray connack(quint8 code)
{
    return packet(0x20, QByteArray(1, '\0') + char(code));
}

constexpr auto responseFilter = "$dps/registrations/res/#";

} // namespace

DpsMqttSession::DpsMqttSession(Dps &dps, QList<QByteArray> chainDer)
    : m_dps(dps)
    , m_chainDer(std::move(chainDer))
{ }

QByteArray DpsMqttSession::feed(const QByteArray &bytes)
{
    QByteArray out;
    if (m_closed)
        return out;
    m_buffer += bytes;
    while (!m_closed) {
        qsizetype pos = 1;
        const auto remaining = readVarint(m_buffer, pos);
        if (!remaining) {
            if (m_buffer.size() >= 5) // a length of more than four bytes
                m_closed = true;
            break;
        }
        if (*remaining > MaxPacket) {
            m_closed = true;
            break;
        }
        if (pos + *remaining > m_buffer.size())
            break;
        const quint8 header = quint8(m_buffer.at(0));
        const QByteArray body = m_buffer.mid(pos, *remaining);
        m_buffer.remove(0, pos + *remaining);
        out += handle(header, body);
    }
    if (m_closed)
        m_buffer.clear();
    return out;
}

QByteArray DpsMqttSession::handle(quint8 header, const QByteArray &body)
{
    const quint8 type = header >> 4;
    if (!m_connected && type != 1) {
        m_closed = true; // the first packet is CONNECT
        return {};
    }
    switch (type) {
    case 1:
        if (m_connected) { // a second CONNECT is a protocol violation
            m_closed = true;
            return {};
        }
        return connect(body);
    case 3: return publish(header, body);
    case 4: // PUBACK of something the client received: nothing is sent with QoS 1
        return {};
    case 8:
        if (header != 0x82)
            break;
        return subscribe(body);
    case 10: { // UNSUBSCRIBE
        if (header != 0xa2 || body.size() < 2)
            break;
        m_subscribed = false;
        return packet(0xb0, body.left(2));
    }
    case 12: return packet(0xd0, {});
    case 14: m_closed = true; return {};
    default: break;
    }
    m_closed = true;
    return {};
}

QByteArray DpsMqttSession::connect(const QByteArray &body)
{
    qsizetype pos = 0;
    const auto protocol = readField(body, pos);
    if (!protocol || pos + 4 > body.size()) {
        m_closed = true;
        return {};
    }
    const quint8 level = quint8(body.at(pos));
    const quint8 flags = quint8(body.at(pos + 1));
    m_keepAlive = (quint8(body.at(pos + 2)) << 8) | quint8(body.at(pos + 3));
    pos += 4;
    if (*protocol != "MQTT" || level != 4) {
        m_closed = true;
        return connack(1); // unacceptable protocol version: DPS speaks MQTT 3.1.1
    }
    const auto clientId = readField(body, pos);
    if (!clientId) {
        m_closed = true;
        return {};
    }
    if (flags & 0x04) { // a will: read and ignored
        if (!readField(body, pos) || !readField(body, pos)) {
            m_closed = true;
            return {};
        }
    }
    std::optional<QByteArray> userName;
    std::optional<QByteArray> password;
    if (flags & 0x80)
        userName = readField(body, pos);
    if (flags & 0x40)
        password = readField(body, pos);
    if (((flags & 0x80) && !userName) || ((flags & 0x40) && !password) || pos != body.size()) {
        m_closed = true;
        return {};
    }
    // "{idScope}/registrations/{registrationId}/api-version=…[&ClientVersion=…]"
    const QList<QByteArray> parts = userName.value_or(QByteArray()).split('/');
    if (parts.size() != 4 || parts.at(1) != "registrations" || !parts.at(3).startsWith("api-version=")) {
        m_closed = true;
        return connack(4); // bad user name or password
    }
    m_idScope = QString::fromUtf8(parts.at(0));
    m_registrationId = QString::fromUtf8(parts.at(2));
    if (QString::fromUtf8(*clientId) != m_registrationId) {
        m_closed = true;
        return connack(2); // identifier rejected: the client id is the registration id
    }
    m_password = QString::fromUtf8(password.value_or(QByteArray()));
    m_connected = true;
    // Credentials are judged by the registration request (401 on the response topic), as DPS answers.
    return connack(0);
}

QByteArray DpsMqttSession::subscribe(const QByteArray &body)
{
    qsizetype pos = 0;
    if (body.size() < 2) {
        m_closed = true;
        return {};
    }
    const QByteArray packetId = body.left(2);
    pos = 2;
    QByteArray granted;
    while (pos < body.size()) {
        const auto filter = readField(body, pos);
        if (!filter || pos >= body.size()) {
            m_closed = true;
            return {};
        }
        const quint8 qos = quint8(body.at(pos++)) & 0x03;
        if (*filter == responseFilter) {
            m_subscribed = true;
            granted.append(char(qMin<quint8>(qos, 1)));
        } else {
            granted.append(char(0x80));
        }
    }
    if (granted.isEmpty()) {
        m_closed = true;
        return {};
    }
    return packet(0x90, packetId + granted);
}

QByteArray DpsMqttSession::publish(quint8 header, const QByteArray &body)
{
    const int qos = (header >> 1) & 0x03;
    qsizetype pos = 0;
    const auto topic = readField(body, pos);
    if (!topic || qos > 1 || (qos == 1 && pos + 2 > body.size())) {
        m_closed = true;
        return {};
    }
    QByteArray out;
    if (qos == 1) {
        out += packet(0x40, body.mid(pos, 2));
        pos += 2;
    }
    const QByteArray payload = body.mid(pos);
    const qsizetype question = topic->indexOf('?');
    const QByteArray name = question < 0 ? *topic : topic->left(question);
    const QUrlQuery query(QString::fromUtf8(question < 0 ? QByteArray() : topic->mid(question + 1)));
    const QString rid = query.queryItemValue(QStringLiteral("$rid"));
    Dps::Credentials credentials{m_password, m_chainDer};
    Dps::Answer answer;
    if (name == "$dps/registrations/PUT/iotdps-register/" && !rid.isEmpty()) {
        answer = m_dps.registerDevice(m_idScope, m_registrationId, credentials, payload);
    } else if (name == "$dps/registrations/GET/iotdps-get-operationstatus/" && !rid.isEmpty()
        && !query.queryItemValue(QStringLiteral("operationId")).isEmpty()) {
        answer = m_dps.operationStatus(
            m_idScope, m_registrationId, query.queryItemValue(QStringLiteral("operationId")), credentials);
    } else {
        m_closed = true; // DPS ends a connection that publishes elsewhere
        return out;
    }
    if (!m_subscribed)
        return out;
    QByteArray responseTopic
        = "$dps/registrations/res/" + QByteArray::number(answer.status) + "/?$rid=" + QUrl::toPercentEncoding(rid);
    if (const QByteArray retryAfter = answer.header("Retry-After"); !retryAfter.isEmpty())
        responseTopic += "&retry-after=" + retryAfter;
    out += packet(0x30, field(responseTopic) + answer.body);
    return out;
}

} // namespace Onboarder::Sandbox
