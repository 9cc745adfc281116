package api

import (
	"fmt"
	"regexp"
	"slices"
	"sync"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// baseImageProperties are the image fields Glance itself defines
// (glance/api/v2/images.py, get_base_properties).
func baseImageProperties() object {
	return object{
		"id":           prop("string", "An identifier for the image", "pattern", uuidPattern),
		"name":         prop(nullString, "Descriptive name for the image", "maxLength", 255),
		"status":       roProp("string", "Status of the image", "enum", schemaStatuses),
		"visibility":   prop("string", "Scope of image accessibility", "enum", schemaVisibilities),
		"protected":    prop("boolean", "If true, image will not be deletable."),
		"os_hidden":    prop("boolean", "If true, image will not appear in default image list response."),
		"checksum":     roProp(nullString, "md5 hash of image contents.", "maxLength", 32),
		"os_hash_algo": roProp(nullString, "Algorithm to calculate the os_hash_value", "maxLength", 64),
		"os_hash_value": roProp(nullString, "Hexdigest of the image contents using the algorithm specified by "+
			"the os_hash_algo", "maxLength", 128),
		"owner":            prop(nullString, "Owner of the image", "maxLength", 255),
		"size":             roProp(nullInteger, "Size of image file in bytes"),
		"virtual_size":     roProp(nullInteger, "Virtual size of image in bytes"),
		"container_format": prop(nullString, "Format of the container", "enum", schemaContainerFormats),
		"disk_format":      prop(nullString, "Format of the disk", "enum", schemaDiskFormats),
		"created_at":       roProp("string", "Date and time of image registration"),
		"updated_at":       roProp("string", "Date and time of the last image modification"),
		"tags": prop("array", "List of strings related to the image",
			"items", object{"type": "string", "maxLength": 255}),
		"direct_url": roProp("string", "URL to access the image file kept in external store"),
		"min_ram":    prop("integer", "Amount of ram (in MB) required to boot image."),
		"min_disk":   prop("integer", "Amount of disk space (in GB) required to boot image."),
		"self":       roProp("string", "An image self url"),
		"file":       roProp("string", "An image file url"),
		"stores": roProp("string", "Store in which image data resides.  Only present when the operator has "+
			"enabled multiple stores.  May be a comma-separated list of store identifiers."),
		"schema":    roProp("string", "An image schema url"),
		"locations": prop("array", "A set of URLs to access the image file kept in external store", "items", locationSchema()),
	}
}

func locationSchema() object {
	return object{
		"type": "object",
		"properties": object{
			"url":      object{"type": "string", "maxLength": 255},
			"metadata": object{"type": "object"},
			"validation_data": prop("object", "Values to be used to populate the corresponding image properties. "+
				"If the image status is not 'queued', values must exactly match those already contained in the "+
				"image properties.",
				"properties", object{
					"checksum":      object{"type": "string", "minLength": 32, "maxLength": 32},
					"os_hash_algo":  object{"type": "string", "maxLength": 64},
					"os_hash_value": object{"type": "string", "maxLength": 128},
				},
				"required", []string{"os_hash_algo", "os_hash_value"},
				"additionalProperties", false,
				"writeOnly", true),
		},
		"required": []string{"url", "metadata"},
	}
}

// propertyKeysDoc is where glanceclient documents the common property keys.
const propertyKeysDoc = "https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html"

// customImageProperties are the ones Glance's packaged schema-image.json
// adds; Glance marks them "is_base": false (not core fields).
func customImageProperties() object {
	custom := func(typ any, desc string, kv ...any) object {
		return prop(typ, desc, append(kv, "is_base", false)...)
	}
	return object{
		"kernel_id": custom(nullString, "ID of image stored in Glance that should be used as the kernel when "+
			"booting an AMI-style image.", "pattern", uuidPattern),
		"ramdisk_id": custom(nullString, "ID of image stored in Glance that should be used as the ramdisk when "+
			"booting an AMI-style image.", "pattern", uuidPattern),
		"instance_uuid": custom("string", "Metadata which can be used to record which instance this image is "+
			"associated with. (Informational only, does not create an instance snapshot.)"),
		"architecture": custom("string", "Operating system architecture as specified in "+propertyKeysDoc),
		"os_distro": custom("string", "Common name of operating system distribution as specified in "+
			propertyKeysDoc),
		"os_version":  custom("string", "Operating system version as specified by the distributor."),
		"description": custom("string", "A human-readable string describing this image."),
		"cinder_encryption_key_id": custom("string", "Identifier in the OpenStack Key Management Service for "+
			"the encryption key for the Block Storage Service to use when mounting a volume created from this image"),
		"cinder_encryption_key_deletion_policy": custom("string", "States the condition under which the Image "+
			"Service will delete the object associated with the 'cinder_encryption_key_id' image property.  If "+
			"this property is missing, the Image Service will take no action",
			"enum", []any{"on_image_deletion", "do_not_delete"}),
	}
}

// customRules are the patterns and enums of the custom properties, compiled
// once.
var customRules = sync.OnceValue(func() map[string]func(string) bool {
	rules := map[string]func(string) bool{}
	for key, p := range customImageProperties() {
		if pat, ok := p.(object)["pattern"].(string); ok {
			rules[key] = regexp.MustCompile(pat).MatchString
		}
		if enum, ok := p.(object)["enum"].([]any); ok {
			rules[key] = func(v string) bool { return slices.Contains(enum, any(v)) }
		}
	}
	return rules
})

// checkCustomProperty applies the schema's rule for a custom property (a
// kernel_id must be a UUID, say), as Glance validates request bodies against
// its schema: a value the schema refuses would make the image itself invalid
// to clients that validate (glanceclient does).
func checkCustomProperty(key, value string) error {
	if ok, has := customRules()[key]; has && !ok(value) {
		return fmt.Errorf("property %s %q does not match the image schema: %w", key, value, errs.ErrInvalid)
	}
	return nil
}
