#pragma once

#include <QWidget>

class QLabel;

namespace Onboarder {

// The title and one-line explanation at the top of every page.
class PageHeader final : public QWidget
{
    Q_OBJECT

public:
    PageHeader(const QString &title, const QString &subtitle, QWidget *parent = nullptr);

private:
    QLabel *m_title;
    QLabel *m_subtitle;
};

} // namespace Onboarder
