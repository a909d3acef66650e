// Package faketags is how the AWS fakes of the tasks' unit tests apply a
// tagging call (EC2 CreateTags, ECS TagResource) as AWS does: each tag set
// replaces the resource's tag of the same key, or is added last.
package faketags

import "github.com/aws/aws-sdk-go-v2/aws"

// Apply returns tags with set applied; key is a tag's key. It reuses tags'
// backing array, as the fakes did.
func Apply[T any](tags, set []T, key func(T) *string) []T {
	for _, t := range set {
		kept := tags[:0]
		for _, old := range tags {
			if aws.ToString(key(old)) != aws.ToString(key(t)) {
				kept = append(kept, old)
			}
		}
		tags = append(kept, t)
	}
	return tags
}
