#pragma once

#include "dps.h"

#include <QAbstractHttpServer>

namespace Onboarder::Sandbox {

// The DPS's HTTPS port: the service REST API (enrollments, groups, registration states; SAS of the DPS's
// policy) and the device registration API (/{idScope}/registrations/{registrationId}/register and
// …/operations/{operationId}; SAS of the enrollment or the client certificate of the TLS handshake), as
// Azure serves them on the service and global device endpoints. Bound to a RestFrontDoor that asks for a
// client certificate without requiring one.
// Threads: the sandbox's main thread.
class DpsServer final : public QAbstractHttpServer
{
    Q_OBJECT

public:
    explicit DpsServer(Dps &dps, QObject *parent = nullptr);

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    Dps &m_dps;
};

} // namespace Onboarder::Sandbox
