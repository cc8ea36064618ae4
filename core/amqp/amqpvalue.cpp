#include "amqpvalue.h"

#include <QDateTime>
#include <QTimeZone>
#include <QUuid>

#include <cstring>
#include <proton/codec.h>

namespace Onboarder {

QVariant AmqpMap::value(const QString &key) const
{
    for (const auto &[k, v] : entries) {
        if (Amqp::text(k) == key)
            return v;
    }
    return {};
}

QVariantMap AmqpMap::toVariantMap() const
{
    QVariantMap map;
    for (const auto &[k, v] : entries)
        map.insert(k.metaType() == QMetaType::fromType<AmqpSymbol>() ? QString::fromUtf8(k.value<AmqpSymbol>().name)
                                                                     : k.toString(),
            v);
    return map;
}

AmqpMap AmqpMap::fromStrings(const QVariantMap &map)
{
    AmqpMap out;
    for (auto it = map.begin(); it != map.end(); ++it)
        out.insertString(it.key(), it.value());
    return out;
}

AmqpMap AmqpMap::fromSymbols(const QVariantMap &map)
{
    AmqpMap out;
    for (auto it = map.begin(); it != map.end(); ++it)
        out.insertSymbol(it.key().toUtf8(), it.value());
    return out;
}

namespace Amqp {

namespace {

QString utf8(pn_bytes_t bytes)
{
    return QString::fromUtf8(bytes.start, qsizetype(bytes.size));
}

QByteArray raw(pn_bytes_t bytes)
{
    return QByteArray(bytes.start, qsizetype(bytes.size));
}

} // namespace

AmqpSymbol symbol(const char *name)
{
    return AmqpSymbol{QByteArray(name)};
}

QString text(const QVariant &value)
{
    if (value.metaType() == QMetaType::fromType<AmqpSymbol>())
        return QString::fromUtf8(value.value<AmqpSymbol>().name);
    if (value.metaType() == QMetaType::fromType<QString>())
        return value.toString();
    return {};
}

void put(pn_data_t *data, const QVariant &value)
{
    if (!value.isValid() || value.isNull()) {
        pn_data_put_null(data);
        return;
    }
    const QMetaType type = value.metaType();
    if (type == QMetaType::fromType<AmqpSymbol>()) {
        const QByteArray name = value.value<AmqpSymbol>().name;
        pn_data_put_symbol(data, pn_bytes(size_t(name.size()), name.constData()));
    } else if (type == QMetaType::fromType<AmqpDescribed>()) {
        const auto described = value.value<AmqpDescribed>();
        pn_data_put_described(data);
        pn_data_enter(data);
        if (described.descriptor.metaType() == QMetaType::fromType<AmqpSymbol>())
            put(data, described.descriptor);
        else
            pn_data_put_ulong(data, described.descriptor.toULongLong());
        put(data, described.value);
        pn_data_exit(data);
    } else if (type == QMetaType::fromType<AmqpMap>()) {
        pn_data_put_map(data);
        pn_data_enter(data);
        for (const auto &[k, v] : value.value<AmqpMap>().entries) {
            put(data, k);
            put(data, v);
        }
        pn_data_exit(data);
    } else if (type == QMetaType::fromType<QVariantMap>()) {
        put(data, QVariant::fromValue(AmqpMap::fromStrings(value.toMap())));
    } else if (type == QMetaType::fromType<QVariantList>() || type == QMetaType::fromType<QStringList>()) {
        pn_data_put_list(data);
        pn_data_enter(data);
        for (const QVariant &item : value.toList())
            put(data, item);
        pn_data_exit(data);
    } else if (type == QMetaType::fromType<QString>()) {
        const QByteArray text = value.toString().toUtf8();
        pn_data_put_string(data, pn_bytes(size_t(text.size()), text.constData()));
    } else if (type == QMetaType::fromType<QByteArray>()) {
        const QByteArray bytes = value.toByteArray();
        pn_data_put_binary(data, pn_bytes(size_t(bytes.size()), bytes.constData()));
    } else if (type == QMetaType::fromType<bool>()) {
        pn_data_put_bool(data, value.toBool());
    } else if (type == QMetaType::fromType<int>()) {
        pn_data_put_int(data, value.toInt());
    } else if (type == QMetaType::fromType<uint>()) {
        pn_data_put_uint(data, value.toUInt());
    } else if (type == QMetaType::fromType<qint64>() || type == QMetaType::fromType<long>()) {
        pn_data_put_long(data, value.toLongLong());
    } else if (type == QMetaType::fromType<quint64>() || type == QMetaType::fromType<ulong>()) {
        pn_data_put_ulong(data, value.toULongLong());
    } else if (type == QMetaType::fromType<double>() || type == QMetaType::fromType<float>()) {
        pn_data_put_double(data, value.toDouble());
    } else if (type == QMetaType::fromType<QDateTime>()) {
        pn_data_put_timestamp(data, value.toDateTime().toMSecsSinceEpoch());
    } else if (type == QMetaType::fromType<QUuid>()) {
        pn_uuid_t uuid;
        const QByteArray bytes = value.toUuid().toRfc4122();
        std::memcpy(uuid.bytes, bytes.constData(), 16);
        pn_data_put_uuid(data, uuid);
    } else {
        const QByteArray text = value.toString().toUtf8();
        pn_data_put_string(data, pn_bytes(size_t(text.size()), text.constData()));
    }
}

QVariant get(pn_data_t *data)
{
    if (pn_data_is_described(data)) {
        AmqpDescribed described;
        pn_data_enter(data);
        if (pn_data_next(data))
            described.descriptor = get(data);
        if (pn_data_next(data))
            described.value = get(data);
        pn_data_exit(data);
        return QVariant::fromValue(described);
    }
    switch (pn_data_type(data)) {
    case PN_NULL: return {};
    case PN_BOOL: return pn_data_get_bool(data);
    case PN_UBYTE: return uint(pn_data_get_ubyte(data));
    case PN_BYTE: return int(pn_data_get_byte(data));
    case PN_USHORT: return uint(pn_data_get_ushort(data));
    case PN_SHORT: return int(pn_data_get_short(data));
    case PN_UINT: return uint(pn_data_get_uint(data));
    case PN_INT: return int(pn_data_get_int(data));
    case PN_ULONG: return quint64(pn_data_get_ulong(data));
    case PN_LONG: return qint64(pn_data_get_long(data));
    case PN_FLOAT: return double(pn_data_get_float(data));
    case PN_DOUBLE: return pn_data_get_double(data);
    case PN_TIMESTAMP: return QDateTime::fromMSecsSinceEpoch(pn_data_get_timestamp(data), Qt::UTC);
    case PN_UUID: {
        const pn_uuid_t uuid = pn_data_get_uuid(data);
        return QUuid::fromRfc4122(QByteArrayView(uuid.bytes, 16));
    }
    case PN_BINARY: return raw(pn_data_get_binary(data));
    case PN_STRING: return utf8(pn_data_get_string(data));
    case PN_SYMBOL: return QVariant::fromValue(AmqpSymbol{raw(pn_data_get_symbol(data))});
    case PN_LIST:
    case PN_ARRAY: {
        QVariantList list;
        pn_data_enter(data);
        while (pn_data_next(data))
            list.append(get(data));
        pn_data_exit(data);
        return list;
    }
    case PN_MAP: {
        AmqpMap map;
        pn_data_enter(data);
        while (pn_data_next(data)) {
            QVariant key = get(data);
            if (!pn_data_next(data))
                break;
            map.entries.append({std::move(key), get(data)});
        }
        pn_data_exit(data);
        return QVariant::fromValue(map);
    }
    default: return {};
    }
}

QVariant read(pn_data_t *data)
{
    pn_data_rewind(data);
    if (!pn_data_next(data))
        return {};
    QVariant value = get(data);
    pn_data_rewind(data);
    return value;
}

void write(pn_data_t *data, const QVariant &value)
{
    pn_data_clear(data);
    if (value.isValid())
        put(data, value);
    pn_data_rewind(data);
}

namespace {

// The value at the data's current position and everything in it (see decodedAsSent).
bool valueAsSent(pn_data_t *data)
{
    const bool described = pn_data_is_described(data);
    const pn_type_t type = pn_data_type(data);
    if (!described && type != PN_LIST && type != PN_MAP && type != PN_ARRAY)
        return true;
    bool asSent = true;
    int children = 0;
    pn_data_enter(data);
    while (asSent && pn_data_next(data)) {
        ++children;
        asSent = !(described && children == 2 && pn_data_is_described(data)) && valueAsSent(data);
    }
    pn_data_exit(data);
    return asSent && (!described || children == 2);
}

} // namespace

bool decodedAsSent(pn_data_t *data)
{
    pn_data_rewind(data);
    bool asSent = true;
    while (asSent && pn_data_next(data))
        asSent = valueAsSent(data);
    pn_data_rewind(data);
    return asSent;
}

} // namespace Amqp

} // namespace Onboarder
