/* SPDX-License-Identifier: MIT */
/* The three kinds of YAML node, apart so that the tag rules need not know the tree. */
#pragma once

typedef enum {
	SG_YAML_SCALAR,
	SG_YAML_MAPPING,
	SG_YAML_SEQUENCE,
} SgYamlKind;
