#pragma once

#include <QColor>
#include <QLabel>
#include <QPalette>

namespace Onboarder::FieldError {

// The red sentence under a form field that says what is wrong with it; hidden while there is none.
inline QLabel *create(QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setWordWrap(true);
    label->setTextFormat(Qt::PlainText);
    QPalette palette = label->palette();
    palette.setColor(QPalette::WindowText, QColor(0xb3, 0x26, 0x1e));
    label->setPalette(palette);
    label->hide();
    return label;
}

inline void show(QLabel *label, const QString &text)
{
    label->setText(text);
    label->setVisible(!text.isEmpty());
}

} // namespace Onboarder::FieldError
