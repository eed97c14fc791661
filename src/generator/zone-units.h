/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "zone-file.h"

/* What krata-zone-generator(8) makes of one declared zone's [Service] and
 * [Install] sections, under a generator output directory DIR:
 *
 *   DIR/krata-zone@NAME.service.d/50-zone-file.conf   SourcePath=, Restart=, RestartSec=
 *   DIR/UNIT.wants/krata-zone@NAME.service            one per WantedBy=UNIT
 *   DIR/UNIT.requires/krata-zone@NAME.service         one per RequiredBy=UNIT
 *
 * The symlinks point at the template unit (template_path). A spec with
 * neither section writes nothing. */

#define ZONE_UNITS_DROPIN "50-zone-file.conf"

/* The drop-in's text, or NULL in *ret when the spec has nothing for it. */
int zone_units_dropin(const ZoneSpec *s, const char *source_path, char **ret);
int zone_units_write(const ZoneSpec *s, const char *source_path, const char *dir, const char *template_path);
